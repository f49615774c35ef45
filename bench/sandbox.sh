#!/usr/bin/env bash
# Overhead of the behavioural sandbox: a sandboxed install of a small package with one
# postinstall script vs a plain `npm install --foreground-scripts` of the same tarball.
#
#   1. npm install --foreground-scripts ./bench-postinstall-1.0.0.tgz   (fresh node_modules each run)
#   2. palisade sandbox bench-postinstall-1.0.0.tgz --no-load           (the same: scripts only)
#   3. palisade sandbox bench-postinstall-1.0.0.tgz                     (scripts + require of the entry)
#   4. sh -c 'node postinstall.js' in the unpacked package               (the script alone, no npm)
# The issue's number is 2 - 1; 2 - 4 is the cost of the sandbox itself (namespaces, tmpfs root,
# fake network, tracer).
# Target (issue 8): under 1.5 s of overhead. Needs npm, node and hyperfine; no network (the
# package has no dependencies and npm installs it from the local tarball).
#
# Usage: bash bench/sandbox.sh          # PALISADE=path/to/palisade to skip the release build
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/palisade-sandbox-bench}
RUNS=${RUNS:-20}

command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm is needed" >&2; exit 2; }

if [ -z "${PALISADE:-}" ]; then
  cargo build --release -p palisade-cli --quiet
  PALISADE="$REPO/target/release/palisade"
fi

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/package" "$BENCH_DIR/project"
cat > "$BENCH_DIR/package/package.json" <<'JSON'
{
  "name": "bench-postinstall",
  "version": "1.0.0",
  "main": "index.js",
  "scripts": { "postinstall": "node postinstall.js" }
}
JSON
cat > "$BENCH_DIR/package/postinstall.js" <<'JS'
// What a typical postinstall does: look at the platform, write a small file.
const fs = require('fs');
const path = require('path');
fs.writeFileSync(path.join(__dirname, 'platform.json'), JSON.stringify({ platform: process.platform, arch: process.arch }));
console.log('bench-postinstall: ready');
JS
echo "module.exports = () => 'ok';" > "$BENCH_DIR/package/index.js"
(cd "$BENCH_DIR/package" && npm pack --silent --pack-destination "$BENCH_DIR" >/dev/null)
TARBALL="$BENCH_DIR/bench-postinstall-1.0.0.tgz"
echo '{"name":"bench-project","version":"1.0.0","private":true}' > "$BENCH_DIR/project/package.json"

hyperfine --warmup 3 --runs "$RUNS" --export-json "$BENCH_DIR/results.json" \
  --prepare "rm -rf $BENCH_DIR/project/node_modules $BENCH_DIR/project/package-lock.json" \
  -n "npm install --foreground-scripts" \
  "cd $BENCH_DIR/project && npm install --foreground-scripts --no-audit --no-fund --offline --no-save $TARBALL >/dev/null" \
  -n "palisade sandbox --no-load" \
  "$PALISADE sandbox $TARBALL --no-load --format json --fail-on critical >/dev/null" \
  -n "palisade sandbox (scripts + load)" \
  "$PALISADE sandbox $TARBALL --format json --fail-on critical >/dev/null" \
  -n "postinstall script alone" \
  "cd $BENCH_DIR/package && sh -c 'node postinstall.js' >/dev/null"

python3 - "$BENCH_DIR/results.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
npm = results["npm install --foreground-scripts"]["mean"]
for name in ("palisade sandbox --no-load", "palisade sandbox (scripts + load)"):
    mean = results[name]["mean"]
    print(f"{name}: {mean*1000:.0f} ms vs npm {npm*1000:.0f} ms -> overhead {(mean-npm)*1000:+.0f} ms "
          f"({'within' if mean - npm < 1.5 else 'OVER'} the 1.5 s target)")
alone = results["postinstall script alone"]["mean"]
sandboxed = results["palisade sandbox --no-load"]["mean"]
print(f"the sandbox itself: {sandboxed*1000:.0f} ms vs the script alone {alone*1000:.0f} ms -> {(sandboxed-alone)*1000:+.0f} ms")
PY
