#!/bin/bash
# Namespace benchmark of the userspace datapath against the Linux bridge and
# upstream OVS (ovs-netdev), all in one run, with and without offloads, and
# the ratios issue 6 asks for:
#   tcp(offload on)  ferrovs / bridge      (target >= 0.7)
#   tcp(offload off) ferrovs / ovs-netdev  (target >= 3)
#   udp64            ferrovs / ovs-netdev  (target >= 2)
# Usage: scripts/bench/ns.sh [ROUNDS]   (env: SECS per test, DPARGS for dp-xconnect,
# NOBUILD=1 to use the dp-xconnect already built)
# Needs root, iperf3 and ../shared/bench/ns_throughput.sh (BENCH overrides its path).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH:-$ROOT/../../shared/bench/ns_throughput.sh}
[ -f "$BENCH" ] || BENCH=/work/shared/bench/ns_throughput.sh
ROUNDS=${1:-1}
[ -n "${NOBUILD:-}" ] || (cd "$ROOT" && cargo build --release -q -p ferrovs-datapath --bin dp-xconnect) || exit 1
declare -A T U
for r in $(seq 1 "$ROUNDS"); do
  for off in on off; do
    for mode in bridge ovs-netdev "cmd:$ROOT/scripts/bench/datapath-cmd.sh"; do
      line=$(OFFLOAD=$off bash "$BENCH" "$mode" | tail -1)
      name=${mode##*/}; name=${name%-cmd.sh}; [ "$name" = datapath ] && name=ferrovs
      echo "round $r: ${line/$mode/$name}"
      t=$(sed -n 's/.*tcp_gbps=\([0-9.]*\).*/\1/p' <<<"$line")
      u=$(sed -n 's/.*udp64_kpps=\([0-9.]*\).*/\1/p' <<<"$line")
      T[$name.$off]="${T[$name.$off]:-} ${t:-0}"
      U[$name.$off]="${U[$name.$off]:-} ${u:-0}"
    done
  done
done
# Median of a list of numbers.
med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR? a[int((NR+1)/2)] : 0)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "medians over $ROUNDS round(s):"
for off in on off; do
  for n in bridge ovs-netdev ferrovs; do
    echo "  $n offload=$off tcp_gbps=$(med "${T[$n.$off]}") udp64_kpps=$(med "${U[$n.$off]}")"
  done
done
echo "ratios:"
echo "  tcp offload=on  ferrovs/bridge     = $(ratio "$(med "${T[ferrovs.on]}")" "$(med "${T[bridge.on]}")")  (target >= 0.70)"
echo "  tcp offload=off ferrovs/ovs-netdev = $(ratio "$(med "${T[ferrovs.off]}")" "$(med "${T[ovs-netdev.off]}")")  (target >= 3)"
echo "  udp64           ferrovs/ovs-netdev = $(ratio "$(med "${U[ferrovs.on]} ${U[ferrovs.off]}")" "$(med "${U[ovs-netdev.on]} ${U[ovs-netdev.off]}")")  (target >= 2)"
