#!/bin/bash
# CPU time per forwarded 64-byte packet of the whole switch (our daemons,
# datapath-cmd.sh's stack) during ns_pps.sh's trafgen stream, split into user
# and system time, for A/B comparisons on a shared machine: the given ferrovs
# binaries take turns, ROUNDS times, each measured over a 5 s window of the
# stream (the process's utime/stime over the packets the receiving veth
# counted). Prints the load average beside each run.
# Usage: scripts/bench/pps-cpu.sh ROUNDS FERROVS_BIN...   Needs root and
# ../shared/bench/ns_pps.sh (PPS overrides its path).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PPS=${PPS:-$ROOT/../../shared/bench/ns_pps.sh}
[ -f "$PPS" ] || PPS=/work/shared/bench/ns_pps.sh
ROUNDS=${1:?rounds}; shift
[ $# -gt 0 ] || { echo "usage: $0 ROUNDS FERROVS_BIN..." >&2; exit 1; }
hz=$(getconf CLK_TCK)
measure() {
  sleep 6
  local p ns if r0 r1 u0 s0 u1 s1 n
  p=$(pgrep -f "ferrovs-bench.*ovs-vswitchd" | head -1)
  ns=$(ip netns list | grep -o "pp[0-9]*b" | head -1); if=${ns%b}ib
  [ -n "$p" ] && [ -n "$ns" ] || { echo "no switch or namespace found"; return; }
  r0=$(ip netns exec "$ns" cat /sys/class/net/$if/statistics/rx_packets)
  read -r u0 s0 < <(awk '{print $14, $15}' /proc/$p/stat)
  sleep 5
  r1=$(ip netns exec "$ns" cat /sys/class/net/$if/statistics/rx_packets)
  read -r u1 s1 < <(awk '{print $14, $15}' /proc/$p/stat)
  n=$((r1 - r0)); [ "$n" -gt 0 ] || { echo "no packets"; return; }
  echo "kpps=$((n / 5000)) user_ns/pkt=$(( (u1-u0)*1000000000/hz/n )) sys_ns/pkt=$(( (s1-s0)*1000000000/hz/n )) cpu=$(( (u1-u0+s1-s0)*100/hz/5 ))%"
}
for r in $(seq 1 "$ROUNDS"); do
  for bin in "$@"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    measure > "/tmp/pps-cpu.$$" &
    FERROVS_BIN=$bin SECS=12 bash "$PPS" "cmd:$ROOT/scripts/bench/datapath-cmd.sh" >/dev/null 2>&1
    wait
    echo "round $r $bin load $load $(cat "/tmp/pps-cpu.$$")"
  done
done
rm -f "/tmp/pps-cpu.$$"
