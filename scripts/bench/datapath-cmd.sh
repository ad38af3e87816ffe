#!/bin/bash
# ferrovs as a switch for ../shared/bench/ns_throughput.sh and ns_pps.sh in cmd: mode:
#   ns_throughput.sh cmd:scripts/bench/datapath-cmd.sh
# $1 and $2 are the two switch-side veth names. By default this runs the whole
# stack, as an operator would: our ovsdb-server and ovs-vswitchd (release build)
# in a private directory, one bridge with datapath_type=netdev and the two veths
# as system ports, forwarding with the NORMAL action (MAC learning).
# Env:
#   FLOWS=normal     (default) the bridge's default flow, actions=NORMAL
#   FLOWS=xconnect   two flows in_port=1,actions=output:2 and back
#   STACK=xconnect   the bare datapath instead (dp-xconnect, no daemons;
#                    DPARGS passes its options, e.g. "--pmds 2";
#                    DP_BIN another dp-xconnect binary, for A/B runs)
#   OTHER_CONFIG     extra "key=value ..." for Open_vSwitch other_config
#   PORT_TYPE        the two ports' Interface type (default system; afxdp
#                    for AF_XDP ports, which need OFFLOAD=off in the harness)
#   FERROVS_BIN      the ferrovs binary (default target/release/ferrovs)
# The harness kills this script's process group at the end; the daemons run
# in the foreground inside it and the private directory is removed on exit.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${STACK:-full}" = xconnect ]; then
  BIN=${DP_BIN:-$ROOT/target/release/dp-xconnect}
  [ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -q -p ferrovs-datapath --bin dp-xconnect) || exit 1
  exec "$BIN" "$1" "$2" ${DPARGS:-}
fi
BIN=${FERROVS_BIN:-$ROOT/target/release/ferrovs}
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -q -p ferrovs-cli) || exit 1
DIR=$(mktemp -d /tmp/ferrovs-bench.XXXXXX)
"$BIN" install-links "$DIR/bin" >/dev/null || exit 1
export OVS_RUNDIR=$DIR OVS_LOGDIR=$DIR OVS_DBDIR=$DIR OVS_SYSCONFDIR=$DIR
DB=unix:$DIR/db.sock
DBPID=""; VSPID=""
BR=fb$$
stop() {
  [ -n "$VSPID" ] && kill "$VSPID" 2>/dev/null
  [ -n "$DBPID" ] && kill "$DBPID" 2>/dev/null
  wait 2>/dev/null
  # The bridge's TAP device is persistent (as upstream's) and outlives a
  # stop by signal.
  ip link del "$BR" 2>/dev/null
  rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 0' TERM INT HUP
"$DIR/bin/ovsdb-tool" create "$DIR/conf.db" || exit 1
"$DIR/bin/ovsdb-server" "$DIR/conf.db" --remote=punix:"$DIR/db.sock" \
  --unixctl="$DIR/ovsdb-server.ctl" --log-file="$DIR/ovsdb-server.log" 2>/dev/null &
DBPID=$!
for _ in $(seq 100); do [ -S "$DIR/db.sock" ] && break; sleep 0.1; done
V() { "$DIR/bin/ovs-vsctl" --db="$DB" --timeout=30 "$@"; }
V --no-wait init || exit 1
[ -n "${OTHER_CONFIG:-}" ] && V --no-wait set Open_vSwitch . $(for kv in $OTHER_CONFIG; do echo "other_config:$kv"; done)
"$DIR/bin/ovs-vswitchd" "$DB" --unixctl="$DIR/ovs-vswitchd.ctl" \
  --log-file="$DIR/ovs-vswitchd.log" 2>/dev/null &
VSPID=$!
V add-br "$BR" -- set bridge "$BR" datapath_type=netdev \
  -- add-port "$BR" "$1" -- set interface "$1" ofport_request=1 type="${PORT_TYPE:-system}" \
  -- add-port "$BR" "$2" -- set interface "$2" ofport_request=2 type="${PORT_TYPE:-system}" || exit 1
if [ "${FLOWS:-normal}" = xconnect ]; then
  "$DIR/bin/ovs-ofctl" del-flows "$BR" &&
  "$DIR/bin/ovs-ofctl" add-flow "$BR" in_port=1,actions=output:2 &&
  "$DIR/bin/ovs-ofctl" add-flow "$BR" in_port=2,actions=output:1 || exit 1
fi
wait "$VSPID"
