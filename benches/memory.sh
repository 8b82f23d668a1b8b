#!/usr/bin/env bash
# Peak memory (RSS) of `patrol scan` on generated trees of growing size: it must stay flat,
# bounded by threads x --max-file-size, not grow with the amount scanned.
#
#   benches/memory.sh [SIZES_MB...]        (default: 50 400; needs /usr/bin/time)
#
# Each tree holds about N 1 MiB text files (source-like lines, two generated tokens per file, one
# UTF-16 file in ten). Prints one line per size: MB scanned, files, findings, peak RSS, time.
# Not run by `cargo test`: it writes hundreds of MB and wants a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ $# -eq 0 ] && sizes=(50 400)
cargo build --release --quiet
bin="$PWD/target/release/patrol"
work=$(mktemp -d "${TMPDIR:-/tmp}/patrol-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One 1 MiB file body (without tokens) made once, reused with fresh tokens per file.
python3 - "$work/body" <<'PY'
import sys
line = "    let value = config.get(\"build.timeout\").unwrap_or(30); // retry budget in seconds\n"
open(sys.argv[1], "w").write((line * ((1 << 20) // len(line) + 1))[: (1 << 20) - 200])
PY

printf '%8s %7s %9s %12s %8s\n' "MiB" "files" "findings" "peak RSS" "seconds"
for mb in "${sizes[@]}"; do
  tree="$work/tree-$mb"
  mkdir -p "$tree"
  "$bin" fake-token --seed "$mb" -n $((2 * mb)) > "$work/tokens"
  for i in $(seq 0 $((mb - 1))); do
    dir="$tree/d$((i % 16))"
    mkdir -p "$dir"
    t1=$(sed -n "$((2 * i + 1))p" "$work/tokens")
    t2=$(sed -n "$((2 * i + 2))p" "$work/tokens")
    if [ $((i % 10)) -eq 9 ]; then
      { printf 'pat = "%s"\n' "$t1"; cat "$work/body"; printf 'pat = "%s"\n' "$t2"; } \
        | iconv -f UTF-8 -t UTF-16LE > "$dir/f$i.ps1"
    else
      { printf 'pat = "%s"\n' "$t1"; cat "$work/body"; printf 'pat = "%s"\n' "$t2"; } > "$dir/f$i.rs"
    fi
  done
  /usr/bin/time -v "$bin" scan "$tree" --format json --output "$work/report.json" \
    2> "$work/time.txt" || [ $? -eq 1 ]
  rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  read -r scanned files findings < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(round(s["bytes_scanned"] / 2**20), s["files_scanned"], s["findings"])' "$work/report.json")
  printf '%8s %7s %9s %9s KiB %8s\n' "$scanned" "$files" "$findings" "$rss" "$secs"
  rm -rf "$tree"
done
