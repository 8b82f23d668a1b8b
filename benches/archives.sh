#!/usr/bin/env bash
# Benchmark (not a test): the cost of opening archives. Generates a tree of NuGet packages, Java
# archives and npm tarballs (text members and incompressible binary members, about SIZE_MB on
# disk, default 300), then times `patrol scan` on it with archives opened and with --no-archives,
# and the floor: `unzip -p` / `gzip -dc` inflating every member of every archive once, one
# archive at a time (median of RUNS, default 3), and prints the ratio patrol / floor (goal: at
# most 2, i.e. scanning at half the speed of inflating alone or better). Build first with
# `cargo build --release`; needs python3, unzip and gzip.
#
# usage: benches/archives.sh [OTHER_BINARY]   (OTHER_BINARY: e.g. an older build to compare)
# env:   PATROL_BIN (default target/release/patrol), SIZE_MB, RUNS, KEEP=DIR (reuse/keep tree),
#        TEXT_ONLY=1 (every member text, so patrol must inflate and scan all that the floor
#        inflates; by default binary members are recognised from their first bytes and not
#        inflated further, which the floor cannot do)
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
    python3 - "$tree" "$size_mb" "${TEXT_ONLY:-}" <<'PY'
import os, random, sys, zipfile
root, target, text_only = sys.argv[1], int(sys.argv[2]) << 20, sys.argv[3] == "1"
rng = random.Random(7)
words = ("config value service client request response build deploy package feed token "
         "user name path version release source target debug error warning info").split()
def text(lines):
    return "".join(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + "\n"
                   for _ in range(lines)).encode()
def binary(size):
    return text(size // 50) if text_only else os.urandom(size)
total, i = 0, 0
while total < target:
    i += 1
    if i % 3 == 0:
        import io, tarfile
        path = os.path.join(root, "npm", f"contoso-pkg{i}-1.0.{i}.tgz")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        members = [("package/package.json", text(15)), ("package/README.md", text(200)),
                   ("package/dist/index.js", text(3000)),
                   ("package/prebuilds/addon.node", binary(rng.randint(100, 600) << 10))]
        with tarfile.open(path, "w:gz") as t:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        total += os.path.getsize(path)
        continue
    if i % 2:
        path = os.path.join(root, "packages", f"contoso.lib{i}.1.0.{i}.nupkg")
        members = [("contoso.nuspec", text(20)), ("content/readme.txt", text(400)),
                   ("content/appsettings.json", text(60))]
        members += [(f"lib/net8.0/Contoso{i}_{k}.dll", binary(rng.randint(100, 900) << 10))
                    for k in range(2)]
    else:
        path = os.path.join(root, "lib", f"tool{i}.jar")
        members = [("META-INF/MANIFEST.MF", text(5)), ("app.properties", text(80))]
        members += [(f"com/contoso/C{k}.class", binary(rng.randint(1, 16) << 10))
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
    show "$label" "$(time_run "$@")"
}
show() {
    local label=$1 out=$2
    printf '%-34s median %6.2f s  peak RSS %6d MiB\n' "$label" \
        "$(cut -d' ' -f1 <<<"$out" | median)" "$(( $(cut -d' ' -f2 <<<"$out" | median) / 1024 ))"
}
command -v unzip >/dev/null && command -v gzip >/dev/null ||
    { echo "needs unzip and gzip on PATH for the floor" >&2; exit 2; }
# The floor: every member inflated once and thrown away, one archive after another (one
# process per archive: `unzip -p` reads one; spawning ~400 processes costs ~0.3 s of it).
inflate_all() {
    find "$tree" -type f \( -name '*.nupkg' -o -name '*.jar' \) -print0 |
        xargs -0 -n1 unzip -p >/dev/null
    find "$tree" -type f -name '*.tgz' -print0 | xargs -0 gzip -dc >/dev/null
}
floor_s() {
    for _ in $(seq "$runs"); do
        local s e; s=$(date +%s%N); inflate_all; e=$(date +%s%N)
        echo "$(((e - s) / 1000000))"
    done | median
}
"$bin" scan "$tree" --color never 2>&1 | tail -1
floor_ms=$(floor_s)
printf '%-34s median %6.2f s\n' "floor: unzip -p / gzip -dc" "$(bc -l <<<"$floor_ms/1000")"
opened=$(time_run "$bin")
show "archives opened" "$opened"
report "--no-archives" "$bin" --no-archives
if [[ -n $other ]]; then
    report "other binary ($other)" "$other"
fi
patrol_s=$(cut -d' ' -f1 <<<"$opened" | median)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'ratio patrol/floor                 %.2f (target <= 2: at least half the speed of inflating alone)\n' \
    "$(bc -l <<<"$patrol_s*1000/$floor_ms")"
