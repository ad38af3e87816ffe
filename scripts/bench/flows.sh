#!/bin/bash
# Flow-table bench: `ovs-ofctl add-flows` of N flows (default 100000) into
# one bridge, then `ovs-ofctl dump-flows` of them, for ferrovs (our
# ovsdb-server + ovs-vswitchd + ovs-ofctl, release build) and for the
# reference Open vSwitch (Debian's, all upstream) in the same run, each in
# its own private run directory on the dummy datapath (no root needed).
# Prints the times and ours/upstream ratios (below 1 = ours is faster).
# Env:
#   N=100000        number of flows
#   RUNS=1          repetitions (the best time of each stack is kept)
#   FERROVS_BIN     the ferrovs binary (default target/release/ferrovs)
#   KEEP=1          keep the flow file and the run directories
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-100000}
RUNS=${RUNS:-1}
BIN=${FERROVS_BIN:-$ROOT/target/release/ferrovs}
for p in /usr/bin/ovs-ofctl /usr/sbin/ovs-vswitchd /usr/sbin/ovsdb-server /usr/bin/ovsdb-tool /usr/bin/ovs-vsctl; do
  [ -x "$p" ] || { echo "flows.sh: the reference Open vSwitch is not installed ($p missing)"; exit 77; }
done
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -q -p ferrovs-cli) || exit 1
WORK=$(mktemp -d /tmp/ferrovs-flows.XXXXXX)
DIRS=()
cleanup() {
  for d in "${DIRS[@]}"; do
    for pid in "$d"/*.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; done
  done
  sleep 0.3
  [ -z "${KEEP:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT

# A realistic flow table: four tables, priorities spread, matches on ports,
# VLANs, Ethernet and IPv4/IPv6 addresses (some masked), L4 ports, metadata
# registers, conntrack state; actions that output, rewrite, resubmit,
# learn nothing (no side effects), drop. Deterministic (fixed seed).
gen_flows() {
  awk -v n="$N" 'BEGIN {
    s = 12345
    for (i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) % 2147483648; r = s
      t = r % 4; kind = int(r / 7) % 8
      prio = 100 + (i % 3000)
      a = int(i / 65536) % 256; b = int(i / 256) % 256; c = i % 256
      m = sprintf("table=%d,priority=%d,", t, prio)
      if (kind == 0) {
        m = m sprintf("in_port=%d,dl_vlan=%d,dl_src=02:%02x:%02x:%02x:00:01", 1 + i % 4, 1 + i % 4000, a, b, c)
        act = sprintf("mod_vlan_vid:%d,output:%d", 1 + (i * 7) % 4000, 1 + (i + 1) % 4)
      } else if (kind == 1) {
        m = m sprintf("ip,nw_src=10.%d.%d.%d,nw_dst=192.168.%d.0/24", a, b, c, b)
        act = sprintf("resubmit(,%d)", (t + 1) % 4)
      } else if (kind == 2) {
        m = m sprintf("tcp,nw_dst=172.16.%d.%d,tp_dst=%d", b, c, 1 + i % 65535)
        act = sprintf("set_field:%d->reg0,output:%d", i, 1 + i % 4)
      } else if (kind == 3) {
        m = m sprintf("udp,in_port=%d,nw_src=10.%d.%d.0/24,tp_src=%d", 1 + i % 4, a, b, 1 + i % 65535)
        act = "drop"
      } else if (kind == 4) {
        m = m sprintf("reg0=%d,reg1=0x%x/0xffff", i, i % 65536)
        act = sprintf("mod_dl_dst:02:00:%02x:%02x:%02x:02,output:%d", a, b, c, 1 + i % 4)
      } else if (kind == 5) {
        m = m sprintf("ipv6,ipv6_src=2001:db8:%x:%x::1,ipv6_dst=2001:db8::/64", a * 256 + b, c)
        act = sprintf("dec_ttl,output:%d", 1 + i % 4)
      } else if (kind == 6) {
        m = m sprintf("ct_state=+trk+est,tcp,nw_src=10.%d.%d.%d", a, b, c)
        act = sprintf("output:%d", 1 + i % 4)
      } else {
        m = m sprintf("arp,arp_tpa=10.%d.%d.%d,arp_op=1", a, b, c)
        act = "NORMAL"
      }
      printf "%s,cookie=0x%x,actions=%s\n", m, i, act
    }
  }' > "$WORK/flows.txt"
}

# start STACK DIR: the daemons of STACK (upstream|ours) in DIR, one bridge.
start() {
  local stack=$1 d=$2 tool server vswitchd
  mkdir -p "$d"; DIRS+=("$d")
  if [ "$stack" = upstream ]; then
    tool=/usr/bin/ovsdb-tool; server=/usr/sbin/ovsdb-server; vswitchd=/usr/sbin/ovs-vswitchd
  else
    tool="$BIN ovsdb-tool"; server="$BIN ovsdb-server"; vswitchd="$BIN ovs-vswitchd"
  fi
  export OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d
  $tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
  $server --detach --no-chdir --pidfile="$d/ovsdb-server.pid" --remote=punix:"$d/db.sock" \
    --log-file="$d/ovsdb-server.log" "$d/conf.db" || return 1
  $vswitchd --detach --no-chdir --pidfile="$d/ovs-vswitchd.pid" --enable-dummy --disable-system \
    --disable-system-route --log-file="$d/ovs-vswitchd.log" unix:"$d/db.sock" 2>/dev/null || return 1
  /usr/bin/ovs-vsctl --db=unix:"$d/db.sock" --timeout=30 add-br br0 \
    -- set bridge br0 datapath_type=dummy fail-mode=secure \
    -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
    -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2 \
    -- add-port br0 p3 -- set interface p3 type=dummy ofport_request=3 \
    -- add-port br0 p4 -- set interface p4 type=dummy ofport_request=4 || return 1
}

now() { date +%s.%N; }

# run STACK: best add-flows and dump-flows times (seconds) of RUNS runs.
run() {
  local stack=$1 ofctl best_add="" best_dump="" i d t0 t1 t2 lines
  if [ "$stack" = upstream ]; then ofctl=(/usr/bin/ovs-ofctl); else ofctl=("$BIN" ovs-ofctl); fi
  for i in $(seq "$RUNS"); do
    d=$WORK/$stack-$i
    start "$stack" "$d" || { echo "flows.sh: $stack daemons did not start" >&2; return 1; }
    t0=$(now)
    "${ofctl[@]}" add-flows br0 "$WORK/flows.txt" || { echo "flows.sh: $stack add-flows failed" >&2; return 1; }
    t1=$(now)
    lines=$("${ofctl[@]}" dump-flows br0 | grep -c "cookie=")
    t2=$(now)
    for pid in "$d"/*.pid; do kill "$(cat "$pid")" 2>/dev/null; done
    # One line per flow (headers, one per reply message, not counted).
    [ "$lines" -eq "$N" ] || echo "flows.sh: $stack dumped $lines flows, expected $N" >&2
    local add dump
    add=$(echo "$t1 - $t0" | bc -l); dump=$(echo "$t2 - $t1" | bc -l)
    if [ -z "$best_add" ] || [ "$(echo "$add < $best_add" | bc -l)" = 1 ]; then best_add=$add; fi
    if [ -z "$best_dump" ] || [ "$(echo "$dump < $best_dump" | bc -l)" = 1 ]; then best_dump=$dump; fi
  done
  echo "$best_add $best_dump"
}

gen_flows
echo "flows.sh: $N flows ($(wc -c < "$WORK/flows.txt") bytes), best of $RUNS"
read -r up_add up_dump < <(run upstream) || exit 1
read -r our_add our_dump < <(run ours) || exit 1
[ -n "$up_add" ] && [ -n "$our_add" ] || exit 1
printf '%-12s %12s %12s %8s\n' "" upstream ferrovs ratio
printf '%-12s %11.3fs %11.3fs %8.2f\n' add-flows "$up_add" "$our_add" "$(echo "$our_add / $up_add" | bc -l)"
printf '%-12s %11.3fs %11.3fs %8.2f\n' dump-flows "$up_dump" "$our_dump" "$(echo "$our_dump / $up_dump" | bc -l)"
