#!/usr/bin/env bash
# Runs every ferrovs test on a fresh machine: installs what the tests need
# (idempotently), builds once in release mode, runs the whole suite.
# Tests that need root or the reference OVS skip with a message when absent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=(openvswitch-switch openvswitch-common python3 python3-openvswitch iproute2 iperf3 ethtool)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing ${missing[*]} (not root or no apt-get): tests needing them will skip" >&2
  fi
fi

# os-ken for the controller tests (they skip with a message without it).
python3 -c 'import os_ken' 2>/dev/null \
  || timeout 300 pip install -q --break-system-packages os-ken >/dev/null 2>&1 \
  || echo "test.sh: os-ken not installed (offline?): controller_osken will skip" >&2

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi

cargo build --release --workspace
cargo nextest run --release --workspace --no-fail-fast "$@"
