#!/usr/bin/env bash
# Benchmark (not a test): `patrol scan` on a large tree of real source against the walk-and-read
# floor, `rg -c --no-ignore --hidden <rare literal>` on the same tree: median wall time and peak
# RSS of RUNS alternating runs each (default 3, after one warm-up of each), and the ratio.
#
# usage: benches/files_vs_rg.sh [TREE]
#   TREE defaults to a tree assembled in $CORPUS (default /tmp/patrol-tree): a copy of
#   ~/.cargo/registry/src plus the checked-out HEAD of every bare repository named in REPOS
#   (space-separated paths to git directories, e.g. mirrors cloned with `git clone --mirror`).
# env:   PATROL_BIN (default target/release/patrol), RUNS, THREADS (passed to both tools as -j)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
bin=${PATROL_BIN:-$here/../target/release/patrol}
runs=${RUNS:-3}
[[ -x $bin ]] || { echo "no binary at $bin: run 'cargo build --release' first (or set PATROL_BIN)" >&2; exit 2; }
command -v rg >/dev/null || { echo "needs ripgrep (rg) on PATH" >&2; exit 2; }

tree=${1:-}
if [[ -z $tree ]]; then
    tree=${CORPUS:-/tmp/patrol-tree}
    if [[ ! -d $tree ]]; then
        mkdir -p "$tree"
        cp -r "$HOME/.cargo/registry/src" "$tree/registry"
        for r in ${REPOS:-}; do
            d="$tree/$(basename "$(dirname "$r")")-$(basename "$r")"
            mkdir -p "$d"
            git --git-dir="$r" archive HEAD | tar -x -C "$d"
        done
    fi
fi
echo "tree: $tree ($(du -sh "$tree" | cut -f1), $(find "$tree" -type f | wc -l) files)"

threads=()
[[ -n ${THREADS:-} ]] && threads=(-j "$THREADS")
literal=patrolRareLiteral7731
rg_run=(rg -c --no-ignore --hidden "${threads[@]}" "$literal" "$tree")
patrol_run=("$bin" scan "$tree" --no-ignore --quiet --color never "${threads[@]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timed "${rg_run[@]}" >/dev/null
timed "${patrol_run[@]}" >/dev/null
for _ in $(seq "$runs"); do
    timed "${rg_run[@]}" >>"$work/rg"
    timed "${patrol_run[@]}" >>"$work/patrol"
done
rg_s=$(cut -d' ' -f1 <"$work/rg" | median); rg_kb=$(cut -d' ' -f2 <"$work/rg" | median)
p_s=$(cut -d' ' -f1 <"$work/patrol" | median); p_kb=$(cut -d' ' -f2 <"$work/patrol" | median)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'rg -c --no-ignore --hidden  median %6.2f s  peak RSS %5d MiB  (%d runs)\n' "$rg_s" $((rg_kb / 1024)) "$runs"
printf 'patrol scan --no-ignore     median %6.2f s  peak RSS %5d MiB  (%d runs)\n' "$p_s" $((p_kb / 1024)) "$runs"
printf 'ratio patrol/rg             %.2f (target <= 1.5)\n' "$(bc -l <<<"$p_s/$rg_s")"
