#!/usr/bin/env bash
# Regenerates the expected package set of every real lockfile fixture with the
# package managers' own parsers (see package.json here). Run after adding a fixture:
#   bash tests/expectations/regenerate.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
[ -d node_modules ] || npm ci --no-audit --no-fund --ignore-scripts
for script in "$here"/*.mjs; do
  echo "== $(basename "$script")" >&2
  node "$script"
done
