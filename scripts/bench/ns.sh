#!/bin/bash
# Namespace benchmark of the userspace datapath against the Linux bridge and
# upstream OVS (ovs-netdev), all in one run, with and without offloads, and
# the ratios issue 6 asks for:
#   tcp(offload on)  ferrovs / bridge      (target >= 0.7)
#   tcp(offload off) ferrovs / ovs-netdev  (target >= 3)
#   udp64            ferrovs / ovs-netdev  (target >= 2; iperf3 -l 64 and ns_pps.sh's trafgen)
#   tcp/udp64 through AF_XDP ports (ferrovs-afxdp: PORT_TYPE=afxdp, offloads off as
#   AF_XDP needs) against ovs-netdev with offloads off (no target: an extra line)
# ferrovs is scripts/bench/datapath-cmd.sh: the whole stack (ovsdb-server, ovs-vswitchd,
# a netdev bridge with the two veths, NORMAL); its env (FLOWS, STACK, DPARGS) passes through.
# Usage: scripts/bench/ns.sh [ROUNDS]   (env: SECS per test, NOBUILD=1 to use the
# binaries already built)
# Needs root, iperf3 and ../shared/bench/ns_throughput.sh (BENCH overrides its path).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH:-$ROOT/../../shared/bench/ns_throughput.sh}
[ -f "$BENCH" ] || BENCH=/work/shared/bench/ns_throughput.sh
PPS=${PPS:-$(dirname "$BENCH")/ns_pps.sh}
ROUNDS=${1:-1}
[ -n "${NOBUILD:-}" ] || (cd "$ROOT" && cargo build --release -q -p ferrovs-cli -p ferrovs-datapath) || exit 1
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A T U P
for r in $(seq 1 "$ROUNDS"); do
  for off in on off; do
    for mode in bridge ovs-netdev "cmd:$ROOT/scripts/bench/datapath-cmd.sh"; do
      line=$(OFFLOAD=$off bash "$BENCH" "$mode" | tail -1)
      name=${mode##*/}; name=${name%-cmd.sh}; [ "$name" = datapath ] && name=ferrovs
      echo "round $r: ${line/$mode/$name}"
      t=$(sed -n 's/.*tcp_gbps=\([0-9.]*\).*/\1/p' <<<"$line")
      u=$(sed -n 's/.*udp64_kpps=\([0-9.]*\).*/\1/p' <<<"$line")
      # A failed run ("fail") is left out of the medians.
      [ -n "$t" ] && T[$name.$off]="${T[$name.$off]:-} $t"
      [ -n "$u" ] && U[$name.$off]="${U[$name.$off]:-} $u"
    done
  done
  # The same stack with type=afxdp ports (AF_XDP carries no offloads: off).
  mode="cmd:$ROOT/scripts/bench/datapath-cmd.sh"
  line=$(PORT_TYPE=afxdp OFFLOAD=off bash "$BENCH" "$mode" | tail -1)
  echo "round $r: ${line/$mode/ferrovs-afxdp}"
  t=$(sed -n 's/.*tcp_gbps=\([0-9.]*\).*/\1/p' <<<"$line")
  u=$(sed -n 's/.*udp64_kpps=\([0-9.]*\).*/\1/p' <<<"$line")
  [ -n "$t" ] && T[ferrovs-afxdp.off]="${T[ferrovs-afxdp.off]:-} $t"
  [ -n "$u" ] && U[ferrovs-afxdp.off]="${U[ferrovs-afxdp.off]:-} $u"
  if [ -f "$PPS" ]; then
    for mode in bridge ovs-netdev "cmd:$ROOT/scripts/bench/datapath-cmd.sh"; do
      line=$(bash "$PPS" "$mode" | tail -1)
      name=${mode##*/}; name=${name%-cmd.sh}; [ "$name" = datapath ] && name=ferrovs
      echo "round $r: ${line/$mode/$name}"
      p=$(sed -n 's/.*rx_kpps=\([0-9.]*\).*/\1/p' <<<"$line")
      [ -n "$p" ] && P[$name]="${P[$name]:-} $p"
    done
  fi
done
# Median of a list of numbers.
med() { tr ' ' '\n' <<<"${1:-}" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR? a[int((NR+1)/2)] : "fail")}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "medians over $ROUNDS round(s) (load now: $(cut -d' ' -f1-3 /proc/loadavg)):"
for off in on off; do
  for n in bridge ovs-netdev ferrovs; do
    echo "  $n offload=$off tcp_gbps=$(med "${T[$n.$off]:-}") udp64_kpps=$(med "${U[$n.$off]:-}")"
  done
done
echo "  ferrovs-afxdp offload=off tcp_gbps=$(med "${T[ferrovs-afxdp.off]:-}") udp64_kpps=$(med "${U[ferrovs-afxdp.off]:-}")"
echo "ratios:"
echo "  tcp offload=on  ferrovs/bridge     = $(ratio "$(med "${T[ferrovs.on]:-}")" "$(med "${T[bridge.on]:-}")")  (target >= 0.70)"
echo "  tcp offload=off ferrovs/ovs-netdev = $(ratio "$(med "${T[ferrovs.off]:-}")" "$(med "${T[ovs-netdev.off]:-}")")  (target >= 3)"
echo "  udp64           ferrovs/ovs-netdev = $(ratio "$(med "${U[ferrovs.on]:-} ${U[ferrovs.off]:-}")" "$(med "${U[ovs-netdev.on]:-} ${U[ovs-netdev.off]:-}")")  (target >= 2)"
echo "  afxdp tcp offload=off ferrovs-afxdp/ovs-netdev = $(ratio "$(med "${T[ferrovs-afxdp.off]:-}")" "$(med "${T[ovs-netdev.off]:-}")")  (no target)"
if [ -f "$PPS" ]; then
  echo "  trafgen64       ferrovs/ovs-netdev = $(ratio "$(med "${P[ferrovs]:-}")" "$(med "${P[ovs-netdev]:-}")")  (target >= 2; kpps $(med "${P[ferrovs]:-}") vs $(med "${P[ovs-netdev]:-}"), bridge $(med "${P[bridge]:-}"))"
fi
