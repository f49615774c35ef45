#!/usr/bin/env bash
# Downloads a few large real npm bundles once, for the analyzer benchmark
# (crates/palisade-analyze/benches/analyze.rs). Uses `npm pack`, so .npmrc and the
# configured registry are honoured. Output: bench/bundles/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bundles/.tgz
cd bundles
# package@version  path-inside-package  local-name
while read -r spec inner name; do
  [ -f "$name" ] && continue
  (cd .tgz && npm pack --silent "$spec" >/dev/null)
  tgz=$(ls .tgz/*.tgz | head -n1)
  tar -xzf "$tgz" -O "package/$inner" > "$name"
  rm -f .tgz/*.tgz
  echo "fetched $spec → $name ($(wc -c < "$name") bytes)"
done <<'LIST'
typescript@5.6.3 lib/typescript.js typescript.js
react-dom@18.3.1 cjs/react-dom.development.js react-dom.development.js
react-dom@18.3.1 umd/react-dom.production.min.js react-dom.production.min.js
lodash@4.17.21 lodash.js lodash.js
lodash@4.17.21 lodash.min.js lodash.min.js
@babel/standalone@7.26.2 babel.min.js babel.min.js
LIST
