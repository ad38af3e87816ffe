#!/bin/sh
# Forwarding-path microbenchmark on in-memory (dummy) ports: Mpps per core
# for 1 flow and 10,000 flows. Usage: scripts/bench/datapath.sh [PACKETS]
set -e
cd "$(dirname "$0")/../.."
cargo build --release -q -p ferrovs-datapath --bin dp-bench
exec target/release/dp-bench "$@"
