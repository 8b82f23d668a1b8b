#!/usr/bin/env bash
# Benchmark (not a test): `patrol staged` in a generated repository of FILES files (default
# 20,000, in 200 directories, one commit) with 3 staged files, against `git diff --cached --stat`
# in the same repository: median wall time of RUNS alternating runs each (default 30), and the
# ratio. Build first with `cargo build --release`.
#
# usage: benches/staged.sh [FILES]
# env:   PATROL_BIN (default target/release/patrol), RUNS, KEEP=DIR (reuse/keep the repository)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
bin=${PATROL_BIN:-$here/../target/release/patrol}
files=${1:-20000}
runs=${RUNS:-30}
[[ -x $bin ]] || { echo "no binary at $bin: run 'cargo build --release' first (or set PATROL_BIN)" >&2; exit 2; }

repo=${KEEP:-$(mktemp -d)}
[[ -n ${KEEP:-} ]] || trap 'rm -rf "$repo"' EXIT
g() { git -C "$repo" -c user.name=bench -c user.email=bench@example.test -c gc.auto=0 "$@"; }
if [[ ! -f $repo/.git/bench-ready ]]; then
    python3 - "$repo" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, f"src/mod{i % 200:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i:05d}.rs"), "w") as f:
        f.write(f"// file {i}\npub fn value_{i}() -> u32 {{ {i} }}\n" * 20)
PY
    g init -q
    g add -A
    g commit -q -m corpus
    for i in 1 2 3; do
        printf 'pub const EXTRA_%s: &str = "staged change %s";\n' "$i" "$i" >>"$repo/src/mod00$i/file0000$i.rs"
    done
    g add -A
    touch "$repo/.git/bench-ready"
fi
[[ $(g diff --cached --name-only | wc -l) -eq 3 ]] || { echo "expected 3 staged files" >&2; exit 2; }

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000)); }
: >"$repo/.git/t-git"; : >"$repo/.git/t-patrol"
for _ in $(seq "$runs"); do
    ms git -C "$repo" diff --cached --stat >>"$repo/.git/t-git"
    ms "$bin" staged "$repo" --quiet >>"$repo/.git/t-patrol"
done
git_us=$(median <"$repo/.git/t-git")
patrol_us=$(median <"$repo/.git/t-patrol")
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'git diff --cached --stat  median %7.1f ms (%d runs)\n' "$(bc -l <<<"$git_us/1000")" "$runs"
printf 'patrol staged             median %7.1f ms (%d runs)\n' "$(bc -l <<<"$patrol_us/1000")" "$runs"
printf 'ratio patrol/git          %.2f (target <= 3)\n' "$(bc -l <<<"$patrol_us/$git_us")"
