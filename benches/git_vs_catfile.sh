#!/usr/bin/env bash
# Benchmark (not a test): `patrol git` on a whole history against one `git` thread inflating
# every object, `git cat-file --batch-all-objects --batch >/dev/null`, on the same repository:
# median wall time and peak RSS of RUNS alternating runs each (default 3, after one warm-up of
# each), and the ratio (target: patrol <= 0.7 x git).
#
# usage: benches/git_vs_catfile.sh [REPO] [extra `patrol git` options]
#   REPO defaults to a mirror of rust-lang/cargo cloned once into $CORPUS (default
#   /tmp/patrol-cargo.git) from $CARGO_URL (default its GitHub address).
# env:   PATROL_BIN (default target/release/patrol), RUNS
set -euo pipefail
source "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
bin=${PATROL_BIN:-$here/../target/release/patrol}
runs=${RUNS:-3}
[[ -x $bin ]] || { echo "no binary at $bin: run 'cargo build --release' first (or set PATROL_BIN)" >&2; exit 2; }
repo=${1:-}
shift || true
if [[ -z $repo ]]; then
    repo=${CORPUS:-/tmp/patrol-cargo.git}
    [[ -d $repo ]] || git clone --mirror --quiet "${CARGO_URL:-https://github.com/rust-lang/cargo}" "$repo"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "repository: $repo ($(git --git-dir="$repo" count-objects -v | sed -n 's/^in-pack: //p') packed objects, $(git --git-dir="$repo" rev-list --all | wc -l) commits)"

git_run=(git --git-dir="$repo" cat-file --batch-all-objects --batch)
patrol_run=("$bin" git "$repo" --quiet --format json --output "$work/report.json" "$@")
timed "${git_run[@]}" >/dev/null
timed "${patrol_run[@]}" >/dev/null
for _ in $(seq "$runs"); do
    timed "${git_run[@]}" >>"$work/git"
    timed "${patrol_run[@]}" >>"$work/patrol"
done
g_s=$(cut -d' ' -f1 <"$work/git" | median); g_kb=$(cut -d' ' -f2 <"$work/git" | median)
p_s=$(cut -d' ' -f1 <"$work/patrol" | median); p_kb=$(cut -d' ' -f2 <"$work/patrol" | median)
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
jq -r '.summary | "patrol: \(.commits) commits, \(.blobs) unique blobs, \(.files_scanned) scanned, \(.bytes_scanned/1048576|floor) MiB, \(.findings) findings"' "$work/report.json"
printf 'git cat-file --batch-all-objects --batch  median %6.2f s  peak RSS %5d MiB  (%d runs)\n' "$g_s" $((g_kb / 1024)) "$runs"
printf 'patrol git                               median %6.2f s  peak RSS %5d MiB  (%d runs)\n' "$p_s" $((p_kb / 1024)) "$runs"
printf 'ratio patrol/git                         %.2f (target <= 0.7)\n' "$(bc -l <<<"$p_s/$g_s")"
