#!/usr/bin/env bash
# Runs the whole ferrovs stack in the foreground: ovsdb-server with the
# built-in Open_vSwitch schema, ovs-vswitchd, and a demo bridge br0 with two
# ports. Nothing to configure: everything lives in target/run (override with
# FERROVS_RUN_DIR). As root the bridge uses the userspace datapath (netdev);
# otherwise, and when FERROVS_DUMMY=1, the dummy datapath (no kernel devices).
# Ctrl-C stops the daemons.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin ferrovs
target/release/ferrovs install-links target/links >/dev/null
BIN="$PWD/target/links"
export PATH="$BIN:$PATH"
DIR=${FERROVS_RUN_DIR:-$PWD/target/run}
mkdir -p "$DIR"
export OVS_RUNDIR="$DIR" OVS_LOGDIR="$DIR" OVS_DBDIR="$DIR" OVS_SYSCONFDIR="$DIR"

stop() {
  for d in ovs-vswitchd ovsdb-server; do
    [ -f "$DIR/$d.pid" ] && kill "$(cat "$DIR/$d.pid")" 2>/dev/null || true
  done
}
trap 'stop; echo; echo "ferrovs stopped."' EXIT
stop

[ -f "$DIR/conf.db" ] || ovsdb-tool create "$DIR/conf.db"
ovsdb-server "$DIR/conf.db" --remote=punix:"$DIR/db.sock" \
  --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
  --pidfile --detach --no-chdir --log-file
ovs-vsctl --no-wait init
if [ "$(id -u)" = 0 ] && [ "${FERROVS_DUMMY:-0}" != 1 ]; then
  DPTYPE=netdev PTYPE=internal DUMMY=()
else
  DPTYPE=dummy PTYPE=dummy DUMMY=(--enable-dummy=override --disable-system)
fi
ovs-vswitchd "unix:$DIR/db.sock" --pidfile --detach --no-chdir --log-file "${DUMMY[@]}"
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=$DPTYPE \
  -- --may-exist add-port br0 p1 -- set interface p1 type=$PTYPE ofport_request=1 \
  -- --may-exist add-port br0 p2 -- set interface p2 type=$PTYPE ofport_request=2

echo
echo "ferrovs is running (datapath_type=$DPTYPE) in $DIR:"
ovs-vsctl show
ovs-ofctl -O OpenFlow13 show br0
cat <<MSG

Reach it from another shell with the same environment:
  export PATH="$BIN:\$PATH" OVS_RUNDIR="$DIR" OVS_LOGDIR="$DIR" OVS_DBDIR="$DIR" OVS_SYSCONFDIR="$DIR"
  ovs-vsctl show; ovs-ofctl dump-flows br0; ovs-appctl ofproto/trace br0 in_port=1
(Debian's own ovs-vsctl/ovs-ofctl/ovs-appctl work too, with the same OVS_RUNDIR.)
Logs: $DIR/ovsdb-server.log, $DIR/ovs-vswitchd.log. Press Ctrl-C to stop.
MSG
while kill -0 "$(cat "$DIR/ovs-vswitchd.pid")" 2>/dev/null; do sleep 1; done
echo "ovs-vswitchd exited; see $DIR/ovs-vswitchd.log"
