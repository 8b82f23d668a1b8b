# Helpers shared by the benchmark scripts; sourced, not run.

# The median of the numbers on standard input, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timed CMD...: run CMD with its output discarded and print "<wall seconds> <peak RSS KiB>".
# Needs $work (a scratch directory). With exit code 1 (findings), time(1) writes a
# "Command exited…" line first: keep the last line.
timed() { /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>&1 || true; tail -n 1 "$work/t"; }
