#!/usr/bin/env bash
# Runs the tests that reach the real npm registry (marked #[ignore] so that
# `cargo test` never needs the network). They use the registry named by
# .npmrc / NPM_CONFIG_REGISTRY, like npm does.
#
#   scripts/test-live-registry.sh             # every crate's ignored tests
#   scripts/test-live-registry.sh -p palisade-registry
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  exec cargo test "$@" -- --ignored
fi
exec cargo test --workspace -- --ignored
