#!/usr/bin/env bash
# Load test of `palisade serve` against Verdaccio, same machine, same run, loopback only.
#
# A static fixture upstream (python3 -m http.server) serves the recorded packuments and
# tarballs of crates/palisade-proxy/tests/fixtures/registry. The firewall and Verdaccio
# both proxy it; each is warmed once (packuments cached, tarballs cached and, for the
# firewall, verified and scanned), then wrk measures cached packuments (full and
# abbreviated) and a cached tarball. Bounded: DURATION seconds per run (default 10),
# CONNECTIONS connections (default 32). Prints req/s and p99 latency and the ratios.
#
#   bash bench/serve-load.sh            # needs wrk (apt-get install wrk), node/npm, python3
#   DURATION=5 bash bench/serve-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
TOOLS="${PALISADE_BENCH_TOOLS:-$HOME/.palisade-bench-tools}"
command -v wrk >/dev/null || { echo "error: wrk not found (apt-get install wrk)" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Fixture upstream: the registry's URL layout as files.
fixtures=crates/palisade-proxy/tests/fixtures/registry
mkdir -p "$work/upstream"
for name in is-odd is-number; do
  cp "$fixtures/$name.json" "$work/upstream/$name.packument"
  mkdir -p "$work/upstream/$name/-"
  cp "$fixtures/$name"-*.tgz "$work/upstream/$name/-/"
done
# `/<name>` is the packument, `/<name>/-/<file>` a tarball.
cat > "$work/upstream.py" <<'PY'
import http.server, os, sys
root = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split('?')[0]
        parts = [p for p in path.split('/') if p]
        if len(parts) == 1:
            f = os.path.join(root, parts[0] + '.packument')
            ctype = 'application/json'
        else:
            f = os.path.join(root, *parts)
            ctype = 'application/octet-stream'
        if '..' in parts or not os.path.isfile(f):
            self.send_response(404); self.end_headers(); return
        data = open(f, 'rb').read()
        self.send_response(200)
        self.send_header('content-type', ctype)
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
python3 "$work/upstream.py" 48720 "$work/upstream" & pids+=($!)

echo "==> building palisade (release)"
cargo build --release -q -p palisade-cli
palisade="$PWD/target/release/palisade"

echo "==> installing verdaccio into $TOOLS (once)"
if [ ! -x "$TOOLS/node_modules/.bin/verdaccio" ]; then
  mkdir -p "$TOOLS"
  # verdaccio 6 asks for `node-fetch@cjs`, a dist-tag some registry mirrors lack; pin what it points at.
  cat > "$TOOLS/package.json" <<'JSON'
{"name": "palisade-bench-tools", "private": true, "dependencies": {"verdaccio": "6"}, "overrides": {"node-fetch": "2.7.0"}}
JSON
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
cat > "$work/verdaccio.yaml" <<YAML
storage: $work/verdaccio-storage
uplinks:
  fixture:
    url: http://127.0.0.1:48720/
    maxage: 1h
    cache: true
packages:
  '**':
    access: \$all
    proxy: fixture
server:
  keepAliveTimeout: 60
log: { type: stdout, format: pretty, level: error }
YAML

cat > "$work/palisade.toml" <<TOML
[registry]
upstream = "http://127.0.0.1:48720/"
[serve]
listen = "127.0.0.1:48721"
data-dir = "$work/palisade-data"
packument-max-age = "60m"
TOML
PALISADE_HOME="$work/home" "$palisade" serve --config "$work/palisade.toml" 2>"$work/palisade.log" & pids+=($!)
"$TOOLS/node_modules/.bin/verdaccio" --config "$work/verdaccio.yaml" --listen 127.0.0.1:48722 >"$work/verdaccio.log" 2>&1 & pids+=($!)

wait_for() { for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "error: $1 did not come up" >&2; exit 1; }
wait_for http://127.0.0.1:48721/-/ping
wait_for http://127.0.0.1:48722/-/ping

ABBR='application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'
for base in http://127.0.0.1:48721 http://127.0.0.1:48722; do
  curl -sf -o /dev/null "$base/is-odd"
  curl -sf -o /dev/null -H "accept: $ABBR" "$base/is-odd"
  curl -sf -o /dev/null "$base/is-odd/-/is-odd-3.0.1.tgz" || { echo "error: $base did not serve the tarball" >&2; exit 1; }
done

# run NAME URL [ACCEPT] → "req/s p99_ms"
run() {
  local out
  if [ -n "${3:-}" ]; then
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "accept: $3" "$2")"
  else
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$2")"
  fi
  local rps p99 errors
  rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000} print v}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  echo "$rps $p99 ${errors:-0}"
}

printf '\n%-26s %-10s %12s %10s %8s\n' "workload" "server" "req/s" "p99 ms" "non-2xx"
declare -A result
for workload in packument-full packument-abbreviated tarball; do
  for server in palisade verdaccio; do
    port=48721; [ "$server" = verdaccio ] && port=48722
    case "$workload" in
      packument-full) r="$(run "$workload" "http://127.0.0.1:$port/is-odd")" ;;
      packument-abbreviated) r="$(run "$workload" "http://127.0.0.1:$port/is-odd" "$ABBR")" ;;
      tarball) r="$(run "$workload" "http://127.0.0.1:$port/is-odd/-/is-odd-3.0.1.tgz")" ;;
    esac
    result["$workload/$server"]="$r"
    read -r rps p99 errors <<<"$r"
    printf '%-26s %-10s %12s %10s %8s\n' "$workload" "$server" "$rps" "$p99" "$errors"
  done
done
echo
for workload in packument-full packument-abbreviated tarball; do
  read -r prps pp99 _ <<<"${result[$workload/palisade]}"
  read -r vrps vp99 _ <<<"${result[$workload/verdaccio]}"
  awk -v w="$workload" -v a="$prps" -v b="$vrps" -v c="$pp99" -v d="$vp99" \
    'BEGIN { printf "%-26s palisade/verdaccio throughput %.1fx, p99 %.1fx lower\n", w, a/b, (c > 0 ? d/c : 0) }'
done
echo "(loopback, ${DURATION}s per run, $CONNECTIONS connections, wrk -t$THREADS; nproc=$(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg))"
