#!/usr/bin/env bash
# Whole-process benchmark of `palisade audit` against `palisade deps` on the
# largest real lockfile of the test set, with the full shared OSV data
# imported, plus the time of that import. Warm cache: hyperfine's warm-up runs.
#
#   bash bench/audit.sh [LOCKFILE]
#
# Needs hyperfine (apt-get install hyperfine); falls back to a timed loop.
# Set PALISADE_BIN to measure an already built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared/data/osv
# PALISADE_BIN=path skips the build (e.g. to measure a binary built earlier).
if [ -z "${PALISADE_BIN:-}" ]; then
  cargo build --release -q -p palisade-cli
fi
bin="${PALISADE_BIN:-$PWD/target/release/palisade}"

lockfile="${1:-}"
if [ -z "$lockfile" ]; then
  # The largest real lockfile fixture, whatever its format.
  lockfile=$(find crates/palisade-lockfile/tests/fixtures/real -type f \
    \( -name '*.json' -o -name '*.lock' -o -name '*.yaml' \) ! -name '*.expected.json' \
    -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
fi
# Give the file the name its format is detected by.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$lockfile" in
  */npm/*) target=package-lock.json ;;
  */yarn/*) target=yarn.lock ;;
  */pnpm/*) target=pnpm-lock.yaml ;;
  */bun/*) target=bun.lock ;;
  *) target=$(basename "$lockfile") ;;
esac
cp "$lockfile" "$work/$target"
export PALISADE_HOME="$work/home"

count=$("$bin" deps --lockfile "$work/$target" --format json --allow-partial | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packages"]))')
echo "lockfile: $lockfile ($(du -h "$lockfile" | cut -f1)), $count packages"

start=$(date +%s.%N)
"$bin" db import --replace "$shared/ossf-malicious-npm.zip" "$shared/ghsa-npm-sample.zip"
end=$(date +%s.%N)
printf 'db import (full shared data): %.2f s\n' "$(echo "$end - $start" | bc)"

deps=("$bin" deps --lockfile "$work/$target" --format json --allow-partial)
audit=("$bin" audit --lockfile "$work/$target" --format json --allow-partial)
if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 5 --runs 50 --ignore-failure --export-json "$work/hyperfine.json" \
    -n deps "${deps[*]}" -n audit "${audit[*]}"
  python3 - "$work/hyperfine.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
deps, audit = results["deps"]["mean"], results["audit"]["mean"]
print(f"deps  mean {deps*1000:.1f} ms")
print(f"audit mean {audit*1000:.1f} ms  (target < 50 ms)")
print(f"audit / deps = {audit/deps:.2f}x  (target <= 3x)")
PY
else
  for name in deps audit; do
    declare -n cmd=$name
    start=$(date +%s.%N)
    for _ in $(seq 50); do "${cmd[@]}" >/dev/null || true; done
    end=$(date +%s.%N)
    printf '%s mean: %.1f ms\n' "$name" "$(echo "($end - $start) * 1000 / 50" | bc -l)"
  done
fi
