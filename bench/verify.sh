#!/usr/bin/env bash
# Whole-process time of `palisade verify` on a 1,500-package lockfile with cached metadata
# (issue 5 target: under 200 ms), tarball integrity included: the online run fetches every
# tarball into Palisade's content cache, the offline runs re-hash them from there. A SYNTHETIC loopback registry (bench/verify_registry.py)
# signs every version with a throwaway P-256 key; a first online run fills the disk cache,
# then `--offline` runs are timed. Needs python3 with `cryptography`.
#
#   bash bench/verify.sh            # COUNT=1500 PORT=48791 PALISADE_BIN=… to override
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PALISADE_BIN:-}" ]; then
  cargo build --release -q -p palisade-cli
fi
bin="${PALISADE_BIN:-$PWD/target/release/palisade}"
count="${COUNT:-1500}"
port="${PORT:-48791}"
work=$(mktemp -d)
python3 bench/verify_registry.py "$work" "$port" "$count" > "$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q ready "$work/server.log" 2>/dev/null && break; sleep 0.1; done

registry="http://127.0.0.1:$port/"
# Tarballs are looked up in npm's cache too: point it at an empty one, so runs are comparable.
export npm_config_cache="$work/npm-cache"
"$bin" --home "$work/home" verify "$work/project" --registry "$registry" -f json > "$work/first.json" || true
python3 - "$work/first.json" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
print("first (online) run:", summary)
PY

best=""
for run in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$bin" --home "$work/home" verify "$work/project" --registry "$registry" --offline -f json > "$work/run.json" || true
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  echo "offline run $run: ${ms} ms"
  if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
python3 - "$work/run.json" "$best" "$count" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
best, count = int(sys.argv[2]), int(sys.argv[3])
print("offline summary:", summary)
print(f"best whole-process time: {best} ms for {count} packages "
      f"({best * 1000 / count:.0f} us per package; target 200 ms = {200_000 / count:.0f} us)")
PY
