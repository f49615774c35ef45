#!/usr/bin/env bash
# Whole-process comparison of `palisade sbom` with @cyclonedx/cyclonedx-npm on
# the same real npm project (popular packages installed from the registry,
# lifecycle scripts off), and a comparison of their component sets.
#
#   bash bench/sbom.sh
#
# Needs node/npm and the npm registry (to create the project and install
# cyclonedx-npm). hyperfine is used when present (apt-get install hyperfine),
# else a timed loop. Environment:
#   PALISADE_BIN=path   measure an already built binary (skips cargo build)
#   BENCH_DIR=dir       keep the project and tools there (reused when present)
#   CYCLONEDX_NPM_VERSION=6.0.1
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PALISADE_BIN:-}" ]; then
  cargo build --release -q -p palisade-cli
fi
bin="${PALISADE_BIN:-$PWD/target/release/palisade}"
cdx_version="${CYCLONEDX_NPM_VERSION:-6.0.1}"

if [ -n "${BENCH_DIR:-}" ]; then
  work="$BENCH_DIR"
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
project="$work/project"
tools="$work/tools"

# The project: a web app's usual dependencies plus common dev tooling.
if [ ! -f "$project/package-lock.json" ] || [ ! -d "$project/node_modules" ]; then
  mkdir -p "$project"
  cat > "$project/package.json" <<'JSON'
{
  "name": "sbom-bench-project",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "express": "^4.19.2", "react": "^18.3.1", "react-dom": "^18.3.1", "lodash": "^4.17.21",
    "axios": "^1.7.2", "@babel/core": "^7.24.7", "chalk": "^4.1.2", "commander": "^12.1.0"
  },
  "devDependencies": {
    "typescript": "^5.4.5", "eslint": "^8.57.0", "jest": "^29.7.0", "webpack": "^5.92.0"
  }
}
JSON
  (cd "$project" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
if [ ! -x "$tools/node_modules/.bin/cyclonedx-npm" ]; then
  mkdir -p "$tools"
  (cd "$tools" && [ -f package.json ] || (cd "$tools" && npm init -y >/dev/null))
  (cd "$tools" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error "@cyclonedx/cyclonedx-npm@$cdx_version" >/dev/null)
fi
cdx="$tools/node_modules/.bin/cyclonedx-npm"

echo "palisade:      $("$bin" --version)"
echo "cyclonedx-npm: $("$cdx" --version) (node $(node --version), npm $(npm --version 2>/dev/null))"
count=$("$bin" deps "$project" --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packages"]))')
echo "project:       $count packages in package-lock.json, installed in node_modules"

palisade_cmd="$bin sbom $project --reproducible --output $work/palisade.cdx.json"
palisade_licenses_cmd="$bin sbom $project --reproducible --licenses --output $work/palisade-licenses.cdx.json"
cdx_cmd="cd $project && $cdx --spec-version 1.6 --output-reproducible --flatten-components --output-file $work/cyclonedx-npm.cdx.json"

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs "${RUNS:-10}" --export-json "$work/hyperfine.json" \
    -n "palisade sbom" "$palisade_cmd" \
    -n "palisade sbom --licenses" "$palisade_licenses_cmd" \
    -n "cyclonedx-npm" "$cdx_cmd" >&2
  python3 - "$work/hyperfine.json" <<'PY'
import json, sys
results = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
cdx = results["cyclonedx-npm"]
for name in ("palisade sbom", "palisade sbom --licenses"):
    print(f"{name:26s} {results[name] * 1000:8.1f} ms   ({cdx / results[name]:.1f}x faster than cyclonedx-npm)")
print(f"{'cyclonedx-npm':26s} {cdx * 1000:8.1f} ms")
PY
else
  time_it() { local start end; start=$(date +%s%N); for _ in 1 2 3 4 5; do bash -c "$1" >/dev/null 2>&1; done; end=$(date +%s%N); echo $(( (end - start) / 5000000 )); }
  p=$(time_it "$palisade_cmd"); pl=$(time_it "$palisade_licenses_cmd"); c=$(time_it "$cdx_cmd")
  echo "palisade sbom              $p ms   ($(echo "scale=1; $c / $p" | bc)x faster than cyclonedx-npm)"
  echo "palisade sbom --licenses   $pl ms   ($(echo "scale=1; $c / $pl" | bc)x faster than cyclonedx-npm)"
  echo "cyclonedx-npm              $c ms"
fi

# Component sets (name@version), and what each knows that the other does not.
python3 - "$work/palisade-licenses.cdx.json" "$work/cyclonedx-npm.cdx.json" <<'PY'
import json, sys

def load(path):
    bom = json.load(open(path))
    ids, refs, licensed, entries, stack = set(), {}, set(), 0, list(bom.get("components", []))
    root = bom.get("metadata", {}).get("component", {})
    if root.get("bom-ref"):
        refs[root["bom-ref"]] = "(root)"
    while stack:
        c = stack.pop()
        stack.extend(c.get("components", []))
        name = f'{c["group"]}/{c["name"]}' if c.get("group") else c["name"]
        key = f'{name}@{c.get("version", "")}'
        entries += 1
        ids.add(key)
        refs[c.get("bom-ref", key)] = key
        if c.get("licenses"):
            licensed.add(key)
    # The graph as name@version pairs: cyclonedx-npm has one node per install
    # path, palisade one per name@version.
    edges = {(refs.get(d["ref"]), refs.get(t)) for d in bom.get("dependencies", []) for t in d.get("dependsOn", [])}
    return ids, entries, licensed, edges

ours, our_entries, our_licensed, our_edges = load(sys.argv[1])
theirs, their_entries, their_licensed, their_edges = load(sys.argv[2])
print(f"components (name@version): palisade {len(ours)}, cyclonedx-npm {len(theirs)} ({their_entries} entries, one per install path), common {len(ours & theirs)}")
print(f"with a license: palisade {len(our_licensed)}, cyclonedx-npm {len(their_licensed)}")
print(f"dependency edges (name@version pairs): palisade {len(our_edges)}, cyclonedx-npm {len(their_edges)}, common {len(our_edges & their_edges)}")
print("only in palisade:", ", ".join(sorted(ours - theirs)) or "none")
print("only in cyclonedx-npm:", ", ".join(sorted(theirs - ours)) or "none")
def show(edges):
    return ", ".join(f"{a} -> {b}" for a, b in sorted(edges, key=str)[:10]) or "none"
print("edges only in palisade:", show(our_edges - their_edges))
print("edges only in cyclonedx-npm:", show(their_edges - our_edges))
PY
