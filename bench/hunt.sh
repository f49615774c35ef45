#!/usr/bin/env bash
# Whole-process benchmark of `palisade hunt` on a realistic tree of ~200,000 files.
#
# Builds a fake home under $BENCH_DIR (default /tmp/palisade-hunt-bench): one real project
# installed with `npm install --ignore-scripts` (webpack, jest, eslint, typescript, babel,
# express, …), copied into more projects until the tree holds $TARGET_FILES files, plus the
# npm cache that install filled. Then, warm (the tree is in the page cache after the warmup
# runs), with hyperfine:
#   1. palisade hunt HOME --format json           (everything: walk, node_modules, lockfiles, caches)
#   2. find HOME -name package.json | xargs cat    (the plain baseline: only reading manifests)
#   3. npm ls --all in every project               (what a team would otherwise script)
# and prints the ratios. Needs npm, hyperfine and the npm registry (set in .npmrc).
#
# Usage: bash bench/hunt.sh            # TARGET_FILES=200000 BENCH_DIR=/tmp/palisade-hunt-bench
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/palisade-hunt-bench}
TARGET_FILES=${TARGET_FILES:-200000}
HOME_DIR="$BENCH_DIR/home"
SEED="$HOME_DIR/code/project-0"

command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm is needed" >&2; exit 2; }

# PALISADE=path/to/palisade skips the build (e.g. a binary built from another checkout).
if [ -z "${PALISADE:-}" ]; then
  cargo build --release -p palisade-cli --quiet
  PALISADE="$REPO/target/release/palisade"
fi

if [ ! -d "$SEED/node_modules" ]; then
  mkdir -p "$SEED"
  cat > "$SEED/package.json" <<'JSON'
{
  "name": "project-0",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "express": "4.21.2",
    "axios": "1.7.9",
    "lodash": "4.17.21",
    "chalk": "4.1.2",
    "debug": "4.3.7"
  },
  "devDependencies": {
    "webpack": "5.97.1",
    "webpack-cli": "5.1.4",
    "jest": "29.7.0",
    "eslint": "8.57.1",
    "typescript": "5.7.2",
    "@babel/core": "7.26.0",
    "@babel/preset-env": "7.26.0"
  }
}
JSON
  (cd "$SEED" && npm_config_cache="$HOME_DIR/.npm" npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

count_files() { find "$HOME_DIR" -type f | wc -l; }
files=$(count_files)
n=1
while [ "$files" -lt "$TARGET_FILES" ]; do
  if [ ! -d "$HOME_DIR/code/project-$n" ]; then
    cp -a "$SEED" "$HOME_DIR/code/project-$n"
    sed -i "s/\"project-0\"/\"project-$n\"/" "$HOME_DIR/code/project-$n/package.json"
  fi
  n=$((n + 1))
  files=$(count_files)
done
projects=$(ls -d "$HOME_DIR"/code/project-* | wc -l)
echo "tree: $files files, $projects projects, $(du -sh "$HOME_DIR" | cut -f1) ($HOME_DIR)"
echo "machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

PALISADE_HOME_DIR="$BENCH_DIR/palisade-home"
"$PALISADE" hunt "$HOME_DIR" --home "$PALISADE_HOME_DIR" --format json -o "$BENCH_DIR/report.json" || true
python3 - "$BENCH_DIR/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["root_summaries"][0]
print(f"hunt saw: {r['files_scanned']} files, {s['node_modules_trees']} node_modules trees, "
      f"{s['lockfiles']} lockfiles, {s['cache_entries']} cache entries, {s['package_locations']} package locations, "
      f"{len(r['hits'])} hits, {sum(r['problems'].values())} problems")
PY

NPM_LS="for p in $HOME_DIR/code/project-*; do (cd \$p && npm ls --all >/dev/null 2>&1 || true); done"
hyperfine --warmup 2 --runs "${RUNS:-10}" --ignore-failure --export-json "$BENCH_DIR/hyperfine.json" \
  -n "palisade hunt" "$PALISADE hunt $HOME_DIR --home $PALISADE_HOME_DIR --format json -o /dev/null" \
  -n "find | xargs cat" "find $HOME_DIR -name package.json -print0 | xargs -0 cat > /dev/null"
hyperfine --warmup 1 --runs "${NPM_RUNS:-3}" --ignore-failure --export-json "$BENCH_DIR/hyperfine-npm.json" \
  -n "npm ls --all (every project)" "$NPM_LS"

python3 - "$BENCH_DIR/hyperfine.json" "$BENCH_DIR/hyperfine-npm.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"] + json.load(open(sys.argv[2]))["results"]
hunt = results[0]["mean"]
for r in results:
    print(f"{r['command']:<32} {r['mean']:.3f} s ± {r['stddev'] or 0:.3f}   {r['mean'] / hunt:.2f}× palisade hunt")
PY
