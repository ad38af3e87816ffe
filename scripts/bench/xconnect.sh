#!/bin/bash
# Packet I/O prototype benchmark: the netdev cross-connect (crates/netdev/examples/xconnect.rs)
# against the Linux bridge, in the same run, between two network namespaces:
#
#   ns <P>n1: <P>h1 10.0.0.1/24 ── <P>s1 ┐
#                                        ├─ Linux bridge  |  xconnect <P>s1 <P>s2
#   ns <P>n2: <P>h2 10.0.0.2/24 ── <P>s2 ┘
#
# For each offload setting (OFFLOADS, default "on off": off = `ethtool -K tx off` on the namespace
# ends, as ../shared/bench/ns_throughput.sh does) and each mode (MODES, default "bridge xconnect")
# it measures iperf3 TCP (1 stream, Gbit/s), UDP 64-byte datagrams at unlimited rate (kpps received)
# and UDP 1400-byte datagrams (Gbit/s received), then prints ratios xconnect/bridge.
# Needs root, iperf3, ethtool. Env: SECS (default 5), XARGS (extra xconnect options, e.g.
# "--threads 1" or "--busy"), XPREFIX (e.g. "nice -n -10"), OFFLOADS, MODES, TESTS (default
# "tcp udp64 udp1400"), REPEAT (runs of every case, interleaved; medians and their ratios are
# printed; default 1). DEBUG=1 prints the prototype's counters and CPU use. Names carry the prefix fvnd<pid>, so runs of
# other scripts and helpers do not collide; everything is removed on exit, even on failure.
set -u
SECS=${SECS:-5}
OFFLOADS=${OFFLOADS:-on off}
MODES=${MODES:-bridge xconnect}
XARGS=${XARGS:-}
TESTS=${TESTS:-tcp udp64 udp1400}
REPEAT=${REPEAT:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
P=fvnd$$
XPID=""

if [ "$(id -u)" != 0 ]; then echo "xconnect.sh: needs root (network namespaces)"; exit 1; fi
for t in iperf3 ethtool python3 ping; do
  command -v $t >/dev/null || { echo "xconnect.sh: $t not installed"; exit 1; }
done

teardown() {
  if [ -n "$XPID" ]; then kill "$XPID" 2>/dev/null; wait "$XPID" 2>/dev/null; XPID=""; [ -n "${DEBUG:-}" ] && cat /tmp/${P}.log; fi
  rm -f /tmp/${P}.log
  for n in n1 n2; do
    ip netns pids ${P}$n 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del ${P}$n 2>/dev/null
  done
  ip link del ${P}br 2>/dev/null; ip link del ${P}s1 2>/dev/null; ip link del ${P}s2 2>/dev/null
  true
}
trap teardown EXIT
trap 'exit 130' INT TERM

(cd "$ROOT" && cargo build --release -q -p ferrovs-netdev --example xconnect) || { echo "xconnect.sh: build failed"; exit 1; }
BIN=$ROOT/target/release/examples/xconnect

setup() { # $1 = offload on|off
  ip netns add ${P}n1; ip netns add ${P}n2
  ip -n ${P}n1 link set lo up; ip -n ${P}n2 link set lo up
  ip link add ${P}h1 netns ${P}n1 type veth peer name ${P}s1
  ip link add ${P}h2 netns ${P}n2 type veth peer name ${P}s2
  ip link set ${P}s1 up; ip link set ${P}s2 up
  ip -n ${P}n1 addr add 10.0.0.1/24 dev ${P}h1; ip -n ${P}n1 link set ${P}h1 up
  ip -n ${P}n2 addr add 10.0.0.2/24 dev ${P}h2; ip -n ${P}n2 link set ${P}h2 up
  if [ "$1" = off ]; then
    ip netns exec ${P}n1 ethtool -K ${P}h1 tx off >/dev/null 2>&1 || return 1
    ip netns exec ${P}n2 ethtool -K ${P}h2 tx off >/dev/null 2>&1 || return 1
  fi
}

json() { python3 -c "$1" 2>/dev/null || echo fail; }

measure() { # $1 = mode, $2 = offload; sets RESULT="tcp udp64 udp1400"
  RESULT="fail fail fail"
  case $1 in
    bridge) ip link add ${P}br type bridge; ip link set ${P}br up
            ip link set ${P}s1 master ${P}br; ip link set ${P}s2 master ${P}br ;;
    xconnect) ${XPREFIX:-} "$BIN" ${P}s1 ${P}s2 $XARGS </dev/null >/dev/null 2>/tmp/${P}.log & XPID=$!; sleep 1 ;;
  esac
  if ! ip netns exec ${P}n1 ping -c 2 -W 2 10.0.0.2 >/dev/null; then
    echo "$1: no connectivity" >&2; [ -f /tmp/${P}.log ] && cat /tmp/${P}.log >&2; return
  fi
  ip netns exec ${P}n2 iperf3 -s -D >/dev/null 2>&1; sleep 0.5
  local c="ip netns exec ${P}n1 timeout $((SECS+15)) iperf3 -c 10.0.0.2 --connect-timeout 3000 -t $SECS -J"
  local T=skip U=skip L=skip
  [[ " $TESTS " == *" tcp "* ]] && T=$($c 2>/dev/null | json 'import json,sys
d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))')
  [[ " $TESTS " == *" udp64 "* ]] && U=$($c -u -l 64 -b 0 2>/dev/null | json 'import json,sys
d=json.load(sys.stdin); s=d["end"]["sum"]; print("%.0f" % ((s["packets"]-s["lost_packets"])/s["seconds"]/1e3))')
  [[ " $TESTS " == *" udp1400 "* ]] && L=$($c -u -l 1400 -b 0 2>/dev/null | json 'import json,sys
d=json.load(sys.stdin); s=d["end"]["sum"]; print("%.2f" % ((s["packets"]-s["lost_packets"])*1400*8/s["seconds"]/1e9))')
  RESULT="$T $U $L"
}

declare -A R M
for rep in $(seq 1 $REPEAT); do
  for off in $OFFLOADS; do
    for m in $MODES; do
      teardown
      if ! setup $off; then echo "xconnect.sh: setup failed (offload=$off)"; exit 1; fi
      measure $m $off; R[$m,$off]="${R[$m,$off]:-}$RESULT;"
      set -- $RESULT
      printf "%-9s offload=%-3s tcp_gbps=%s udp64_kpps=%s udp1400_gbps=%s\n" $m $off $1 $2 $3
    done
  done
done
teardown

# Median of each column over the repetitions.
median() { python3 -c "
import statistics,sys
rows=[r.split() for r in '$1'.split(';') if r.strip()]
out=[]
for c in range(3):
  v=[float(r[c]) for r in rows if r[c] not in ('fail','skip')]
  out.append('%.2f' % statistics.median(v) if v else 'n/a')
print(' '.join(out))"; }
ratio() { python3 -c "
try: print('%.2f' % (float('$1')/float('$2')))
except Exception: print('n/a')"; }
[ "$REPEAT" -gt 1 ] && echo "median of $REPEAT runs:"
for off in $OFFLOADS; do
  for m in $MODES; do
    set -- $(median "${R[$m,$off]}"); M[$m,$off]="$*"
    [ "$REPEAT" -gt 1 ] && printf "%-9s offload=%-3s tcp_gbps=%s udp64_kpps=%s udp1400_gbps=%s\n" $m $off $1 $2 $3
  done
done
if [[ " $MODES " == *" bridge "* && " $MODES " == *" xconnect "* ]]; then
  for off in $OFFLOADS; do
    set -- ${M[xconnect,$off]}; X=("$@")
    set -- ${M[bridge,$off]}; B=("$@")
    echo "ratio xconnect/bridge offload=$off tcp=$(ratio ${X[0]} ${B[0]}) udp64=$(ratio ${X[1]} ${B[1]}) udp1400=$(ratio ${X[2]} ${B[2]})"
  done
fi
