#!/usr/bin/env bash
# Detection and speed of `palisade scan`, with GuardDog as the peer, on
#   - the malicious side: every zip of ../shared/corpus/npm-malicious and
#     ../shared/corpus/npm-reconstructed, read IN MEMORY by palisade
#     (--zip-password infected; nothing is unpacked, nothing executed);
#   - the benign side: ../shared/bench/popular-1000.tsv at the listed versions,
#     fetched from the registry into PALISADE_HOME's cache (first run) and
#     scanned from that cache (the timed run).
# Prints recall (malicious; malicious-or-suspicious), false-positive rates on
# the popular set, per-rule hit counts on both sides, the 10 slowest packages,
# whole-process times, and the same for GuardDog with ratios.
#
#   bash bench/scan-eval.sh
#
# Environment:
#   LIMIT=N            first N popular packages for palisade (default 1000)
#   GUARDDOG_LIMIT=N   first N popular packages for GuardDog (default 100; 0 skips
#                      GuardDog; ~1.2 s per package)
#   PALISADE_BIN=path  an already built binary (skips cargo build --release)
#   PALISADE_HOME=dir  cache (default target/scan-eval-home, kept between runs)
#   OUT=dir            where the JSON reports go (default target/scan-eval)
#
# GuardDog needs files on disk. For the corpus zips this script unpacks each
# sample with `unzip -P infected` into a fresh directory under /tmp
# (mktemp -d /tmp/palisade-eval-XXXX: a place no package manager, test runner
# or editor scans), runs `guarddog npm scan` on it, and deletes it right after;
# nothing there is installed, required or executed. Popular tarballs for GuardDog
# are downloaded into the same kind of temp dir and deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
shared="$root/../shared"
limit="${LIMIT:-1000}"
gd_limit="${GUARDDOG_LIMIT:-100}"
out="${OUT:-$root/target/scan-eval}"
export PALISADE_HOME="${PALISADE_HOME:-$root/target/scan-eval-home}"
mkdir -p "$out" "$PALISADE_HOME"

if [ -z "${PALISADE_BIN:-}" ]; then
  cargo build --release -q -p palisade-cli
fi
bin="${PALISADE_BIN:-$root/target/release/palisade}"
echo "palisade: $("$bin" --version) ($(nproc) cores)"

now() { date +%s.%N; }
# Seconds since $1 (python3 rather than bc, which minimal images lack).
since() { python3 -c "import sys; print(round(float(sys.argv[1]) - float(sys.argv[2]), 3))" "$(now)" "$1"; }

# --- malicious side (in memory) ---------------------------------------------
mapfile -t zips < <(ls "$shared"/corpus/npm-malicious/*.zip "$shared"/corpus/npm-reconstructed/*.zip 2>/dev/null)
start=$(now)
"$bin" scan "${zips[@]}" --zip-password infected --format json --fail-on never --allow-partial \
  > "$out/malicious.json" 2> "$out/malicious.stderr" || true
mal_seconds=$(since "$start")

# --- benign side ------------------------------------------------------------
tail -n +2 "$shared/bench/popular-1000.tsv" | head -n "$limit" | awk -F'\t' '{print $1"@"$2}' > "$out/popular.targets"
mapfile -t targets < "$out/popular.targets"
# Warm the cache (network); not timed as the scan time.
start=$(now)
"$bin" scan "${targets[@]}" --format json --fail-on never --allow-partial -j 16 \
  > "$out/popular-warm.json" 2> "$out/popular-warm.stderr" || true
warm_seconds=$(since "$start")
# Timed: everything from the cache, offline.
start=$(now)
"$bin" scan "${targets[@]}" --offline --format json --fail-on never --allow-partial \
  > "$out/popular.json" 2> "$out/popular.stderr" || true
pop_seconds=$(since "$start")

# --- GuardDog ---------------------------------------------------------------
gd_mal="" gd_pop=""
if [ "$gd_limit" != "0" ]; then
  venv="$root/target/guarddog-venv"
  if [ ! -x "$venv/bin/guarddog" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q guarddog
  fi
  gd="$venv/bin/guarddog"
  command -v unzip >/dev/null || { echo "error: GuardDog needs the corpus on disk: install unzip" >&2; exit 1; }
  echo "guarddog: $("$gd" --version 2>/dev/null | tail -1)"
  tmp=$(mktemp -d /tmp/palisade-eval-XXXX)
  trap 'rm -rf "$tmp"' EXIT
  gd_mal="$out/guarddog-malicious.jsonl"
  : > "$gd_mal"
  for zip in "${zips[@]}"; do
    sample="$tmp/sample"
    rm -rf "$sample" && mkdir -p "$sample"
    unzip -q -P infected "$zip" -d "$sample"
    dir="$sample/package"; [ -d "$dir" ] || dir="$sample"
    s=$(now)
    result=$("$gd" npm scan "$dir" --output-format json 2>/dev/null || true)
    e=$(since "$s")
    python3 -c 'import json,sys; print(json.dumps({"target": sys.argv[1], "seconds": float(sys.argv[2]), "output": sys.argv[3]}))' \
      "$(basename "$zip")" "$e" "$result" >> "$gd_mal"
    rm -rf "$sample"   # the unpacked sample lives only for the duration of its scan
  done
  gd_pop="$out/guarddog-popular.jsonl"
  : > "$gd_pop"
  registry=$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)
  head -n "$gd_limit" "$out/popular.targets" | while read -r target; do
    name="${target%@*}"; version="${target##*@}"; base="${name##*/}"
    tgz="$tmp/$base-$version.tgz"
    curl -sfL "${registry%/}/$name/-/$base-$version.tgz" -o "$tgz" || continue
    s=$(now)
    result=$("$gd" npm scan "$tgz" --output-format json 2>/dev/null || true)
    e=$(since "$s")
    python3 -c 'import json,sys; print(json.dumps({"target": sys.argv[1], "seconds": float(sys.argv[2]), "output": sys.argv[3]}))' \
      "$target" "$e" "$result" >> "$gd_pop"
    rm -f "$tgz"
  done
fi

python3 "$root/bench/scan_eval.py" \
  --malicious "$out/malicious.json" --popular "$out/popular.json" \
  --malicious-seconds "$mal_seconds" --popular-seconds "$pop_seconds" --warm-seconds "$warm_seconds" \
  --popular-count "${#targets[@]}" \
  ${gd_mal:+--guarddog-malicious "$gd_mal"} ${gd_pop:+--guarddog-popular "$gd_pop"}
