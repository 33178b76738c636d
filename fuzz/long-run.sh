#!/usr/bin/env bash
# Usage (from the repository root): fuzz/long-run.sh TARGET [RUNS] [MAX_SECONDS]
#
# Fuzzes TARGET from its committed corpus (fuzz/corpus/TARGET, read only) for RUNS
# executions (default 10 000 000), stopping after MAX_SECONDS at most (default
# 3000), at `nice -n 10`; new inputs go to fuzz/work/TARGET and the fuzzer's output
# to fuzz/work/TARGET.log (both ignored). Prints a Markdown section for
# bench/fuzz.md: the command, the machine, executions, executions per second, wall
# time, peak RSS and how it ended (libFuzzer stops at the first crash, timeout or
# out-of-memory, so a run that reaches RUNS had none).
#
# `fuzz/long-run.sh --report TARGET RUNS MAX_SECONDS` prints the section again from
# the kept log. `fuzz/long-run.sh --minimise TARGET` merges the new inputs into the
# committed corpus and minimises it (`cargo fuzz cmin`, as a set cover of the edges
# reached: the fewest inputs that reach every edge the whole corpus reaches;
# counting hit counts as well would keep several times as many); inputs named
# `regression-*` (what a run found, kept under a name) stay as they are.
set -euo pipefail

stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}'; }

report() {
  local execs ended rc wall
  execs=$(stat number_of_executed_units)
  rc=$(grep -m1 '^# exit status ' "$log" | awk '{print $4}')
  wall=$(grep -m1 '^# wall seconds ' "$log" | awk '{print $4}')
  ended=$(grep -m1 -oE "ERROR: libFuzzer: [a-z-]+|ERROR: AddressSanitizer: [a-z-]+|panicked at .*|Done [0-9]+ runs in [0-9]+ second\(s\)" "$log" || true)
  echo "### \`$target\`"
  echo
  echo "- command: \`nice -n 10 ${command[*]}\` (from the repository root; \`fuzz/long-run.sh $target $runs $max\`)"
  echo "- machine: $(grep -m1 '^# machine ' "$log" | cut -d' ' -f3-)"
  echo "- toolchain: $(grep -m1 '^# toolchain ' "$log" | cut -d' ' -f3-)"
  echo "- executions: $execs of $runs; $(stat average_exec_per_sec) per second (libFuzzer's average); wall time $wall s"
  echo "- peak RSS: $(stat peak_rss_mb) MiB (limit 512); slowest input: $(stat slowest_unit_time_sec) s (limit 5)"
  echo "- ended: ${ended:-?} (exit status $rc); new inputs kept: $(stat new_units_added)"
  echo
  if [ "$rc" != 0 ]; then
    echo "Last lines of the fuzzer's output:"
    echo
    echo '```'
    grep -v '^# ' "$log" | tail -n 40
    echo '```'
    echo
  fi
}

minimise() {
  local target=$1 before kept
  kept=$(mktemp -d)
  cp fuzz/corpus/"$target"/regression-* "$kept"/ 2>/dev/null || true
  cp -n fuzz/work/"$target"/* fuzz/corpus/"$target"/ 2>/dev/null || true
  before=$(ls fuzz/corpus/"$target" | wc -l)
  nice -n 10 cargo +nightly fuzz cmin --sanitizer none "$target" fuzz/corpus/"$target" \
    -- -set_cover_merge=1 -use_counters=0 -rss_limit_mb=512 -timeout=5 >&2
  cp "$kept"/* fuzz/corpus/"$target"/ 2>/dev/null || true
  rm -rf "$kept"
  echo "- \`$target\`: $before inputs before \`fuzz/long-run.sh --minimise $target\`, $(ls fuzz/corpus/"$target" | wc -l) after ($(cat fuzz/corpus/"$target"/* | wc -c) bytes)"
}

main() {
  cd "$(dirname "$0")/.."
  if [ "${1:-}" = --minimise ]; then
    minimise "$2"
    return
  fi
  local mode=run
  if [ "${1:-}" = --report ]; then
    mode=report
    shift
  fi
  target=$1
  runs=${2:-10000000}
  max=${3:-3000}
  work=fuzz/work/$target
  log=fuzz/work/$target.log
  local args=(-runs="$runs" -max_total_time="$max" -rss_limit_mb=512 -timeout=5 -print_final_stats=1)
  if [ -f fuzz/dict/"$target".dict ]; then
    args+=(-dict=fuzz/dict/"$target".dict)
  fi
  command=(cargo +nightly fuzz run --sanitizer none "$target" "$work" fuzz/corpus/"$target" -- "${args[@]}")
  if [ "$mode" = run ]; then
    mkdir -p "$work"
    # Build first, so the wall time is the fuzzing's.
    nice -n 10 cargo +nightly fuzz build --sanitizer none "$target" >&2
    {
      echo "# machine $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
      echo "# toolchain $(rustc +nightly --version), $(cargo fuzz --version), gonogo $(git rev-parse --short HEAD)"
    } >"$log"
    local start rc
    start=$(date +%s)
    set +e
    nice -n 10 "${command[@]}" >>"$log" 2>&1
    rc=$?
    set -e
    {
      echo "# wall seconds $(( $(date +%s) - start ))"
      echo "# exit status $rc"
    } >>"$log"
    sed -i "1s/\$/, after: $(cut -d' ' -f1-3 /proc/loadavg)/" "$log"
  fi
  report
}

main "$@"
