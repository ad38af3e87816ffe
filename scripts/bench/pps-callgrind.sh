#!/bin/bash
# Instructions of user code per forwarded 64-byte packet on the real receive/
# transmit path, independent of the machine's load: each given dp-xconnect
# binary forwards ns_pps.sh's trafgen stream between two veths under
# callgrind; instrumentation is switched on once traffic flows (startup and
# allocation left out) and the count is divided by the packets parsed on
# receive (calls of packet::extract::parse_l2_and_up).
# Usage: scripts/bench/pps-callgrind.sh [DP_XCONNECT...]   (default: this
# tree's release build). Env: SECS (default 10). Needs root, valgrind, trafgen
# and ../shared/bench/ns_pps.sh (PPS overrides its path).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PPS=${PPS:-$ROOT/../../shared/bench/ns_pps.sh}
[ -f "$PPS" ] || PPS=/work/shared/bench/ns_pps.sh
[ $# -gt 0 ] || set -- "$ROOT/target/release/dp-xconnect"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for bin in "$@"; do
  out=$TMP/cg.out
  rm -f "$out"*
  cat > "$TMP/dp.sh" <<W
#!/bin/bash
exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$out "$bin" "\$@" 2>/dev/null
W
  chmod +x "$TMP/dp.sh"
  # Instrumentation on a few seconds into the stream.
  ( sleep 6; p=$(pgrep -f "callgrind-out-file=$out" | head -1); [ -n "$p" ] && callgrind_control -i on "$p" >/dev/null 2>&1 ) &
  STACK=xconnect DP_BIN=$TMP/dp.sh SECS=${SECS:-10} bash "$PPS" "cmd:$ROOT/scripts/bench/datapath-cmd.sh" >/dev/null 2>&1
  wait
  for _ in $(seq 20); do [ -s "$out" ] && break; sleep 0.5; done
  ir=$(callgrind_annotate "$out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
  n=$(callgrind_annotate --tree=caller "$out" 2>/dev/null |
      awk '/^-+$/{blk=""} {blk=blk"\n"$0} /\*  .*packet::extract::parse_l2_and_up \[/{print blk; exit}' |
      sed -n 's/.*< .*(\([0-9,]*\)x).*/\1/p' | tr -d , | awk '{s+=$1} END {print s+0}')
  if [ -n "$ir" ] && [ "${n:-0}" -gt 0 ]; then
    echo "$bin: packets=$n instructions=$ir per_packet=$((ir / n))"
  else
    echo "$bin: no measurement (ir=${ir:-none} packets=${n:-0})"
  fi
done
