#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 600) and fails if any
# finds a crash. Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). Not part of CI (too long); run before releases.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-600}
for t in $(cargo +nightly fuzz list); do
  echo "== $t ($secs s)"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 2>&1 | grep -E "^(Done|==[0-9]+== ERROR|SUMMARY)|panicked" || true
  if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $t found a crash: $(ls artifacts/$t/crash-*)" >&2
    exit 1
  fi
done
