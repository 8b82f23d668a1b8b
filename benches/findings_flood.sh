#!/usr/bin/env bash
# Benchmark (not a test): inputs that flood the matcher, measured with /usr/bin/time.
#
#  1. A 60 MB log repeating one generated token on every line: findings, report size, peak RSS
#     and time. A secret is reported once per file with an occurrence count, so this must give
#     one finding, a report of a few KB and a peak RSS near that of a clean 60 MB file.
#  2. 16 MiB made of the keyword `_auth=` (one line) against 16 MiB of ordinary source text:
#     the keyword-dense input must stay within 3x the time of the ordinary one.
#
# usage: benches/findings_flood.sh        env: PATROL_BIN (default target/release/patrol)
# Exits 1 if the keyword-dense input is more than 3x slower than ordinary text.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${PATROL_BIN:-$here/target/release/patrol}
[[ -n ${PATROL_BIN:-} ]] || (cd "$here" && cargo build --release --quiet)
work=$(mktemp -d "${TMPDIR:-/tmp}/patrol-flood.XXXXXX")
trap 'rm -rf "$work"' EXIT

token=$("$bin" fake-token --seed 60)
python3 - "$work" "$token" <<'PY'
import os, sys
work, token = sys.argv[1], sys.argv[2]
os.makedirs(f"{work}/log"); os.makedirs(f"{work}/clean"); os.makedirs(f"{work}/dense"); os.makedirs(f"{work}/plain")
line = f"2024-05-01T10:00:00Z INFO deploy: using AZURE_DEVOPS_EXT_PAT={token} for the feed\n"
clean = "2024-05-01T10:00:00Z INFO deploy: using the configured credential for the feed ok\n"
n = 60_000_000 // len(line)
open(f"{work}/log/build.log", "w").write(line * n)
open(f"{work}/clean/build.log", "w").write(clean * (60_000_000 // len(clean)))
mib16 = 16 << 20
open(f"{work}/dense/auth.txt", "w").write(("_auth=" * (mib16 // 6 + 1))[:mib16])
src = "    let value = config.get(\"build.timeout\").unwrap_or(30); // retry budget in seconds\n"
open(f"{work}/plain/main.rs", "w").write((src * (mib16 // len(src) + 1))[:mib16])
PY

# measure DIR: prints "seconds peak_KiB findings report_bytes"
measure() {
    "$bin" scan "$1" --quiet --max-file-size 100M >/dev/null 2>&1 || true   # warm the cache
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" scan "$1" --max-file-size 100M \
        --format json --output "$work/report.json" 2>/dev/null || true
    # With exit code 1 (findings), time writes a "Command exited…" line first.
    read -r secs rss < <(tail -n 1 "$work/time")
    found=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["summary"]["findings"])' "$work/report.json")
    echo "$secs $rss $found $(stat -c %s "$work/report.json")"
}

printf '%-34s %8s %10s %9s %12s\n' input seconds "peak KiB" findings "report B"
for case in "log:60 MB log, token on every line" "clean:60 MB log, no token" \
            "dense:16 MiB of _auth=" "plain:16 MiB of source text"; do
    read -r secs rss found bytes < <(measure "$work/${case%%:*}")
    printf '%-34s %8s %10s %9s %12s\n' "${case#*:}" "$secs" "$rss" "$found" "$bytes"
    eval "secs_${case%%:*}=$secs"
done
python3 - "$secs_dense" "$secs_plain" <<'PY'
import sys
dense, plain = map(float, sys.argv[1:])
ratio = dense / max(plain, 0.01)
print(f"keyword-dense / ordinary time: {ratio:.2f}x (limit 3x)")
sys.exit(0 if ratio <= 3 else 1)
PY
