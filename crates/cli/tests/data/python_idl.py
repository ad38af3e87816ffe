# Connects the Python OVS IDL to an OVSDB server, inserts a bridge and
# waits until the monitor reports it back. Usage: python_idl.py REMOTE
import sys, time
import ovs.db.idl, ovs.poller
remote = sys.argv[1]
helper = ovs.db.idl.SchemaHelper("/usr/share/openvswitch/vswitch.ovsschema")
helper.register_all()
idl = ovs.db.idl.Idl(remote, helper)
def run_until(cond, t=10):
    end = time.time() + t
    while time.time() < end:
        idl.run()
        if cond(): return True
        p = ovs.poller.Poller(); idl.wait(p); p.timer_wait(100); p.block()
    return False
assert run_until(lambda: idl.has_ever_connected() and idl.change_seqno > 0), "no connect"
txn = ovs.db.idl.Transaction(idl)
o = list(idl.tables["Open_vSwitch"].rows.values())
root = o[0] if o else txn.insert(idl.tables["Open_vSwitch"])
br = txn.insert(idl.tables["Bridge"]); br.name = "pybr"
root.bridges = [br] + (list(root.bridges) if o else [])
st = None
end = time.time()+10
while time.time() < end:
    st = txn.commit()
    if st not in (ovs.db.idl.Transaction.INCOMPLETE, ovs.db.idl.Transaction.UNCOMMITTED): break
    p = ovs.poller.Poller(); idl.wait(p); txn.wait(p); p.timer_wait(100); p.block(); idl.run()
print("commit:", st, txn.get_error())
assert run_until(lambda: any(b.name == "pybr" for b in idl.tables["Bridge"].rows.values())), "no update"
print("bridges seen by IDL:", sorted(b.name for b in idl.tables["Bridge"].rows.values()))
idl.close()
