"""An L2-learning controller written with os-ken, for ferrovs's controller
tests (crates/cli/tests/controller_osken.rs).

Usage: python3 l2_learning.py PORT LOGFILE

It listens for the switch on 127.0.0.1:PORT (OpenFlow 1.3). When a switch
connects it installs a table-miss flow sending packets to the controller.
On each packet-in it learns the source MAC on the input port and installs
`priority=10,dl_dst=SRC actions=output:IN_PORT`; it then sends the packet
out of the learned port of its destination, or floods it. After each
packet-in it sends a barrier and, when the reply arrives, appends one line
to LOGFILE ("packet-in IN_PORT SRC DST -> OUT").
"""

import sys

from os_ken import cfg
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER
from os_ken.controller.handler import set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

LOGFILE = None


def log(line):
    with open(LOGFILE, "a") as f:
        f.write(line + "\n")


class L2Learning(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.macs = {}
        self.pending = {}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.macs = {}
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions)
        req = parser.OFPBarrierRequest(dp)
        self.pending_xid(dp, req, "connected %016x" % dp.id)

    def add_flow(self, dp, priority, match, actions):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match, instructions=inst))

    def pending_xid(self, dp, req, line):
        dp.set_xid(req)
        self.pending[req.xid] = line
        dp.send_msg(req)

    @set_ev_cls(ofp_event.EventOFPBarrierReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def barrier_reply(self, ev):
        line = self.pending.pop(ev.msg.xid, None)
        if line is not None:
            log(line)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        self.macs[eth.src] = in_port
        self.add_flow(dp, 10, parser.OFPMatch(eth_dst=eth.src),
                      [parser.OFPActionOutput(in_port)])
        out = self.macs.get(eth.dst, ofp.OFPP_FLOOD)
        out_text = "FLOOD" if out == ofp.OFPP_FLOOD else str(out)
        dp.send_msg(parser.OFPPacketOut(
            datapath=dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=in_port,
            actions=[parser.OFPActionOutput(out)], data=msg.data))
        req = parser.OFPBarrierRequest(dp)
        self.pending_xid(dp, req, "packet-in %d %s %s -> %s reason=%d table=%d len=%d" % (
            in_port, eth.src, eth.dst, out_text, msg.reason, msg.table_id, msg.total_len))


def main():
    global LOGFILE
    port, LOGFILE = sys.argv[1], sys.argv[2]
    cfg.CONF(args=["--ofp-tcp-listen-port", port, "--ofp-listen-host", "127.0.0.1"],
             project="os_ken")
    app_manager.AppManager.run_apps([__name__])


if __name__ == "__main__":
    main()
