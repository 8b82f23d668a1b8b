#!/usr/bin/env bash
# Benchmark (not a test): `patrol scan` on a generated corpus of SIZE and 2×SIZE MiB (default
# 200), reporting wall time, MB/s, peak RSS and findings, to show throughput and that cost
# grows linearly while memory stays flat. Reproducible without peers or network.
#
# usage: benches/files.sh [SIZE_MIB] [extra `patrol scan` options, e.g. --threads 1]
# env:   PATROL_BIN (default target/release/patrol), CORPUS_DIR (default /tmp/patrol-corpus)
set -euo pipefail
size=${1:-200}
shift || true
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${PATROL_BIN:-$here/target/release/patrol}
corpus=${CORPUS_DIR:-/tmp/patrol-corpus}
(cd "$here" && cargo build --release --quiet --example gen_corpus)
gen="$here/target/release/examples/gen_corpus"
[[ -x $bin ]] || (cd "$here" && cargo build --release --quiet)

for mult in 1 2; do
    dir="$corpus/$((size * mult))"
    [[ -d $dir ]] || "$gen" "$dir" $((size * mult)) 7 >/dev/null
    # one warm-up for the page cache, then three timed runs
    "$bin" scan "$dir" --quiet "$@" >/dev/null || true
    for run in 1 2 3; do
        out=$(/usr/bin/time -f '%e %M' "$bin" scan "$dir" --format json --output /tmp/patrol-bench.json "$@" 2>&1 >/dev/null | tail -1 || true)
        read -r secs rss <<<"$out"
        found=$(python3 -c 'import json;print(json.load(open("/tmp/patrol-bench.json"))["summary"]["findings"])')
        python3 -c "import sys; s,r,m,f=float('$secs'),int('$rss'),$((size * mult)),'$found'; print(f'{m:5d} MiB  run {$run}: {s:6.2f} s  {m/s if s else 0:8.0f} MiB/s  peak RSS {r/1024:6.1f} MiB  findings {f}')"
    done
done
rm -f /tmp/patrol-bench.json
