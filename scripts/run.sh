#!/usr/bin/env bash
# Runs ferrovs. Until the daemons land (issues 3, 5, 6) this builds the
# multi-call binary, installs its tool links under target/links, and runs the
# offline ovs-ofctl on the flows the seed documents type.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin ferrovs
target/release/ferrovs install-links target/links
export PATH="$PWD/target/links:$PATH"
echo "+ ovs-ofctl -O OpenFlow13 parse-flows examples/seed-flows.txt"
ovs-ofctl -O OpenFlow13 parse-flows examples/seed-flows.txt
