#!/usr/bin/env bash
# The firewall's real-client checks against the real upstream registry (not part of
# `cargo test`, which uses a loopback fixture upstream; see crates/palisade-proxy/tests).
#
# Starts `palisade serve` in front of the registry npm is configured with, then:
#   1. a clean `npm install` of a small real project succeeds and its lockfile points at
#      the firewall;
#   2. the known-malicious chalk@5.6.1 (September 2025 compromise) is never served, and
#      a version denied in palisade.toml (ms@2.1.3) is refused by tarball URL with the
#      rule named while `ms@^2.1.0` resolves to the previous version, npm printing why;
#   3. a cooldown (release-age 100000d) hides every version, so an install fails with
#      npm printing our notice;
#   4. allowlist mode refuses an unlisted package with our message.
#
#   scripts/test-firewall-live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p palisade-cli
palisade="$PWD/target/debug/palisade"
upstream="${PALISADE_UPSTREAM:-$(npm config get registry 2>/dev/null)}"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=48790
fail() { echo "FAIL: $*" >&2; exit 1; }

start() { # palisade.toml body
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 0.5
  printf '[registry]\nupstream = "%s"\n%s\n' "$upstream" "$1" > "$work/palisade.toml"
  PALISADE_HOME="$work/home" "$palisade" serve --config "$work/palisade.toml" --listen "127.0.0.1:$port" \
    --data-dir "$work/data-$RANDOM" 2>>"$work/serve.log" &
  pid=$!
  for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/-/ping" && return; sleep 0.2; done
  fail "the firewall did not start: $(cat "$work/serve.log")"
}

install() { # dir deps-json
  mkdir -p "$1"
  printf '{"name":"live","version":"1.0.0","private":true,"dependencies":%s}\n' "$2" > "$1/package.json"
  : > "$1/.npmrc-empty"
  (cd "$1" && npm install --ignore-scripts --prefer-online --no-audit --no-fund \
    --registry "http://127.0.0.1:$port/" --userconfig "$1/.npmrc-empty" --cache "$1/.cache" 2>&1)
}

echo "==> 1. clean install through the firewall (upstream $upstream)"
start ""
out="$(install "$work/clean" '{"is-odd":"^3.0.1","ms":"^2.1.3"}')" || fail "clean install: $out"
grep -q "\"resolved\": \"http://127.0.0.1:$port/" "$work/clean/package-lock.json" || fail "lockfile does not point at the firewall"
echo "ok"

echo "==> 2. known-malicious chalk@5.6.1 is never served; a denied real version is refused on every path"
code="$(curl -s -o "$work/chalk.json" -w '%{http_code}' "http://127.0.0.1:$port/chalk/-/chalk-5.6.1.tgz")"
# 403 (refused by the advisory) or 404 (already unpublished upstream): never 200.
[ "$code" = 403 ] || [ "$code" = 404 ] || fail "chalk-5.6.1.tgz answered $code"
start $'[packages]\ndeny = [{ spec = "ms@2.1.3", reason = "live test" }]'
code="$(curl -s -o "$work/ms.json" -w '%{http_code}' "http://127.0.0.1:$port/ms/-/ms-2.1.3.tgz")"
[ "$code" = 403 ] && grep -q '(denied)' "$work/ms.json" || fail "ms-2.1.3.tgz answered $code: $(cat "$work/ms.json")"
out="$(install "$work/deny" '{"ms":"^2.1.0"}')" || fail "ms install: $out"
version="$(node -p 'require(process.argv[1]).version' "$work/deny/node_modules/ms/package.json")"
[ "$version" != 2.1.3 ] || fail "ms 2.1.3 was installed"
grep -q "ms@2.1.3 (denied" <<<"$out" || fail "npm did not print the held-back notice: $out"
echo "ok (ms $version installed instead of 2.1.3)"

echo "==> 3. a cooldown longer than any package's life hides every version"
start $'[release-age]\nminimum = "100000d"'
if out="$(install "$work/young" '{"is-odd":"^3.0.1"}')"; then fail "install succeeded under an impossible cooldown"; fi
grep -q "release-age" <<<"$out" || fail "npm did not print our notice: $out"
echo "ok"

echo "==> 4. allowlist mode refuses an unlisted package"
start $'[packages]\nmode = "allowlist"\nallow = ["ms"]'
if out="$(install "$work/allow" '{"is-odd":"^3.0.1"}')"; then fail "unlisted package installed"; fi
grep -q "not-allowlisted" <<<"$out" || fail "no message: $out"
echo "ok"
echo "all live firewall checks passed"
