#!/usr/bin/env bash
# Runs cargo-fuzz targets for SECONDS each (default 600), one after the
# other at low priority, and fails if any finds a crash:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: every target)
#
# The targets turn the code's own logging off and only libFuzzer's summary
# lines are kept, so long runs do not fill the disk. Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Not part of CI (too
# long); run before releases.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  nice -n 19 cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 2>&1 \
    | grep -E "^(Done|==[0-9]+== ERROR|SUMMARY)|panicked|deadly signal" || true
  if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $t found a crash: $(ls artifacts/$t/crash-*)" >&2
    exit 1
  fi
done
