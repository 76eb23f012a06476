#!/bin/sh
# Runs one harness for SECONDS in total, restarting it after a crash (the
# artifact is kept), and prints the executions summed over the segments.
# Usage: fuzz/run-long.sh BUILD HARNESS SECONDS [libFuzzer args...]
b=$1 h=$2 total=$3; shift 3
mkdir -p "$b/corpus/$h" "$b/crashes/$h" "$b/logs"
end=$(( $(date +%s) + total )); execs=0; seg=0
while :; do
  left=$(( end - $(date +%s) ))
  [ "$left" -gt 0 ] || break
  seg=$((seg + 1))
  ASAN_OPTIONS=detect_leaks=1 \
  LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0 \
    "$b/fuzz/$h" -print_final_stats=1 -max_total_time="$left" \
    -artifact_prefix="$b/crashes/$h/" "$@" "$b/corpus/$h" "tests/fuzz/$h" \
    > "$b/logs/$h.$seg.log" 2>&1
  n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$b/logs/$h.$seg.log" | awk '{print $2}')
  [ -n "$n" ] || n=$(grep -oE '^#[0-9]+' "$b/logs/$h.$seg.log" | tail -n 1 | tr -d '#')
  execs=$((execs + ${n:-0}))
done
echo "$h: $execs executions in $seg segment(s), $(ls "$b/crashes/$h" | wc -l) artifact(s)"
