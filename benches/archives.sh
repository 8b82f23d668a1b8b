#!/usr/bin/env bash
# Benchmark (not a test): the cost of opening archives. Generates a tree of NuGet packages and
# Java archives (text members and incompressible binary members, about SIZE_MB on disk, default
# 300), then times `patrol scan` on it with archives opened and with --no-archives (median of
# RUNS, default 3). Build first with `cargo build --release`; needs python3.
#
# usage: benches/archives.sh [OTHER_BINARY]   (OTHER_BINARY: e.g. an older build to compare)
# env:   PATROL_BIN (default target/release/patrol), SIZE_MB, RUNS, KEEP=DIR (reuse/keep tree)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
bin=${PATROL_BIN:-$here/../target/release/patrol}
other=${1:-}
size_mb=${SIZE_MB:-300}
runs=${RUNS:-3}
if [[ ! -x $bin ]]; then
    echo "no binary at $bin: run 'cargo build --release' first (or set PATROL_BIN)" >&2
    exit 2
fi

tree=${KEEP:-$(mktemp -d)}
[[ -n ${KEEP:-} ]] || trap 'rm -rf "$tree"' EXIT
if [[ ! -f $tree/.generated ]]; then
    python3 - "$tree" "$size_mb" <<'PY'
import os, random, sys, zipfile
root, target = sys.argv[1], int(sys.argv[2]) << 20
rng = random.Random(7)
words = ("config value service client request response build deploy package feed token "
         "user name path version release source target debug error warning info").split()
def text(lines):
    return "".join(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + "\n"
                   for _ in range(lines)).encode()
total, i = 0, 0
while total < target:
    i += 1
    if i % 2:
        path = os.path.join(root, "packages", f"contoso.lib{i}.1.0.{i}.nupkg")
        members = [("contoso.nuspec", text(20)), ("content/readme.txt", text(400)),
                   ("content/appsettings.json", text(60))]
        members += [(f"lib/net8.0/Contoso{i}_{k}.dll", os.urandom(rng.randint(100, 900) << 10))
                    for k in range(2)]
    else:
        path = os.path.join(root, "lib", f"tool{i}.jar")
        members = [("META-INF/MANIFEST.MF", text(5)), ("app.properties", text(80))]
        members += [(f"com/contoso/C{k}.class", os.urandom(rng.randint(1, 16) << 10))
                    for k in range(120)]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    total += os.path.getsize(path)
open(os.path.join(root, ".generated"), "w").write(f"{i} archives, {total} bytes\n")
PY
fi
echo "tree: $(cat "$tree/.generated") ($(du -sh "$tree" | cut -f1) on disk)"

time_run() {
    local b=$1; shift
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' "$b" scan "$tree" --quiet --color never "$@" \
            2>&1 >/dev/null | tail -1
    done
}
report() {
    local label=$1; shift
    local out; out=$(time_run "$@")
    printf '%-34s median %6.2f s  peak RSS %6d MiB\n' "$label" \
        "$(cut -d' ' -f1 <<<"$out" | median)" "$(( $(cut -d' ' -f2 <<<"$out" | median) / 1024 ))"
}
"$bin" scan "$tree" --color never 2>&1 | tail -1
report "archives opened" "$bin"
report "--no-archives" "$bin" --no-archives
if [[ -n $other ]]; then
    report "other binary ($other)" "$other"
fi
