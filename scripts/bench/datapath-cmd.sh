#!/bin/bash
# The userspace datapath (crates/datapath, two system ports cross-connected through megaflows)
# as a switch for ../shared/bench/ns_throughput.sh and ns_pps.sh in cmd: mode:
#   ns_throughput.sh cmd:scripts/bench/datapath-cmd.sh
# $1 and $2 are the two switch-side veth names. DPARGS passes options (e.g. "--pmds 2").
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/target/release/dp-xconnect
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -q -p ferrovs-datapath --bin dp-xconnect) || exit 1
exec "$BIN" "$1" "$2" ${DPARGS:-}
