#!/usr/bin/env bash
# Benchmark (not a test): time a full-history scan with `patrol git` and print commits, unique
# blobs, bytes, MB/s and peak RSS. Build first with `cargo build --release`.
#
# usage: benches/git_history.sh REPO [extra `patrol git` options, e.g. --threads 2]
# env:   PATROL_BIN  binary to time (default: target/release/patrol next to this script)
set -euo pipefail

repo=${1:?usage: benches/git_history.sh REPO [patrol git options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
bin=${PATROL_BIN:-$here/../target/release/patrol}
if [[ ! -x $bin ]]; then
    echo "no binary at $bin: run 'cargo build --release' first (or set PATROL_BIN)" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
/usr/bin/time -v "$bin" git "$repo" --format json --output "$work/report.json" "$@" \
    2>"$work/stderr.txt" || status=$?
# 0 = no findings, 1 = findings; anything else is a failed run.
if [[ $status -gt 1 ]]; then
    echo "patrol git failed (exit $status):" >&2
    cat "$work/stderr.txt" >&2
    exit "$status"
fi

field() { jq -r ".summary.$1 // 0" "$work/report.json"; }
commits=$(field commits)
blobs=$(field blobs)
scanned=$(field files_scanned)
bytes=$(field bytes_scanned)
findings=$(field findings)
elapsed_ms=$(field elapsed_ms)
rss_kib=$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$work/stderr.txt")
wall=$(sed -n 's/^\s*Elapsed (wall clock) time.*: //p' "$work/stderr.txt")
cpu_user=$(sed -n 's/^\s*User time (seconds): //p' "$work/stderr.txt")
cpu_sys=$(sed -n 's/^\s*System time (seconds): //p' "$work/stderr.txt")

awk -v repo="$repo" -v c="$commits" -v b="$blobs" -v s="$scanned" -v by="$bytes" \
    -v f="$findings" -v ms="$elapsed_ms" -v rss="$rss_kib" -v wall="$wall" \
    -v u="$cpu_user" -v sy="$cpu_sys" 'BEGIN {
    secs = ms / 1000.0
    printf "repository    %s\n", repo
    printf "commits       %d\n", c
    printf "unique blobs  %d (%d scanned)\n", b, s
    printf "bytes         %d (%.1f MiB)\n", by, by / 1048576
    printf "findings      %d\n", f
    printf "elapsed       %.2f s (wall %s, cpu %.1f s)\n", secs, wall, u + sy
    printf "throughput    %.1f MB/s\n", (secs > 0 ? by / 1e6 / secs : 0)
    printf "peak RSS      %.0f MiB\n", rss / 1024
}'
