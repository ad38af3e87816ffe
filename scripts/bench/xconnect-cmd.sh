#!/bin/bash
# The netdev cross-connect prototype as a switch for ../shared/bench/ns_throughput.sh and
# ns_pps.sh in cmd: mode:  ns_throughput.sh cmd:scripts/bench/xconnect-cmd.sh
# $1 and $2 are the two switch-side veth names. Build it first (the harness waits 3 s):
#   cargo build --release -p ferrovs-netdev --example xconnect
# XARGS passes options to the prototype (see crates/netdev/examples/xconnect.rs).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/target/release/examples/xconnect
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -q -p ferrovs-netdev --example xconnect) || exit 1
exec "$BIN" "$1" "$2" ${XARGS:-}
