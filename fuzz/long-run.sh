#!/usr/bin/env bash
# Usage (from the repository root): fuzz/long-run.sh TARGET [RUNS] [MAX_SECONDS]
#
# Fuzzes TARGET from its committed corpus (fuzz/corpus/TARGET, read only) for RUNS
# executions (default 10 000 000), stopping after MAX_SECONDS at most (default
# 3000), at `nice -n 10`; new inputs go to fuzz/work/TARGET (ignored). Prints a
# Markdown section for bench/fuzz.md: the command, the machine, executions,
# executions per second, wall time, peak RSS and how it ended (libFuzzer stops at
# the first crash, timeout or out-of-memory, so a run that reaches RUNS had none).
# Then `fuzz/long-run.sh --minimise TARGET` merges the new inputs into the committed
# corpus and minimises it (`cargo fuzz cmin`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --minimise ]; then
  target=$2
  cp -n fuzz/work/"$target"/* fuzz/corpus/"$target"/ 2>/dev/null || true
  before=$(ls fuzz/corpus/"$target" | wc -l)
  nice -n 10 cargo +nightly fuzz cmin --sanitizer none "$target" fuzz/corpus/"$target" \
    -- -rss_limit_mb=512 -timeout=5 >&2
  echo "$target: $before inputs before cmin, $(ls fuzz/corpus/"$target" | wc -l) after, $(du -sk fuzz/corpus/"$target" | cut -f1) KiB"
  exit 0
fi

target=$1
runs=${2:-10000000}
max=${3:-3000}
work=fuzz/work/$target
mkdir -p "$work"
args=(-runs="$runs" -max_total_time="$max" -rss_limit_mb=512 -timeout=5 -print_final_stats=1)
if [ -f fuzz/dict/"$target".dict ]; then
  args+=(-dict=fuzz/dict/"$target".dict)
fi
command=(cargo +nightly fuzz run --sanitizer none "$target" "$work" fuzz/corpus/"$target" -- "${args[@]}")
# Build first, so the wall time is the fuzzing's.
nice -n 10 cargo +nightly fuzz build --sanitizer none "$target" >&2
log=$(mktemp)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
set +e
nice -n 10 "${command[@]}" >"$log" 2>&1
rc=$?
set -e
wall=$(( $(date +%s) - start ))
stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}'; }
execs=$(stat number_of_executed_units)
ended=$(grep -m1 -oE "ERROR: libFuzzer: [a-z-]+|ERROR: AddressSanitizer: [a-z-]+|panicked at .*|Done [0-9]+ runs in [0-9]+ second\(s\)" "$log" || true)
new=$(ls "$work" | wc -l)

echo "### \`$target\`"
echo
echo "- command: \`nice -n 10 ${command[*]}\` (from the repository root; \`fuzz/long-run.sh $target $runs $max\`)"
echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- toolchain: $(rustc +nightly --version), $(cargo fuzz --version), gonogo $(git rev-parse --short HEAD)"
echo "- executions: $execs of $runs; $(stat average_exec_per_sec) per second (libFuzzer's average); wall time $wall s"
echo "- peak RSS: $(stat peak_rss_mb) MiB (limit 512); slowest input: $(stat slowest_unit_time_sec) s (limit 5)"
echo "- ended: ${ended:-?} (exit status $rc); new inputs found: $new"
echo
if [ "$rc" != 0 ]; then
  echo "Last lines of the fuzzer's output:"
  echo
  echo '```'
  tail -n 40 "$log"
  echo '```'
  echo
fi
rm -f "$log"
