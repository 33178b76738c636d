#!/usr/bin/env bash
# How long `gonogo report --format html` takes on a one-hour soak, and how large the
# page is. Writes a synthetic run (3,600 one-second intervals × 2 workloads, 3,600
# resource samples; crates/gonogo/examples/synthetic_soak.rs) into a temporary store,
# judges it once, then times five HTML renders of it from the store.
#
# Usage: bench/report-render.sh   (prints Markdown for bench/report-render.md)
# With BENCH_BIN=DIR it uses DIR/gonogo and DIR/examples/synthetic_soak as built
# elsewhere (`cargo build --release -p gonogo --bin gonogo --example synthetic_soak`),
# to measure on a machine without a toolchain.
set -euo pipefail
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
cd "$(dirname "$0")/.."
if [ -n "${BENCH_BIN:-}" ]; then
  bin="$BENCH_BIN"
else
  bin="${CARGO_TARGET_DIR:-target}/release"
  cargo build --release --quiet -p gonogo --bin gonogo --example synthetic_soak
fi
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
store="$dir/evidence.db"
"$bin/examples/synthetic_soak" "$store" 2>/dev/null

gonogo() {
  # The exit code is the verdict (0 GO, 1 NO-GO, 2 INCONCLUSIVE); anything else fails.
  "$bin/gonogo" "$@" || [ $? -le 2 ]
}
# The first report judges the run by its stored spec and stores the evaluation.
gonogo report 1 --store "$store" --format terminal >/dev/null

# Wall time and CPU time (user + system) of each whole `gonogo report` process; the
# CPU time is what the render costs, the wall time also shows how busy the machine is.
walls=()
cpus=()
rss=()
for _ in 1 2 3 4 5; do
  /usr/bin/time -f "%e %U %S %M" -o "$dir/time" \
    "$bin/gonogo" report 1 --store "$store" --format html >"$dir/report.html" || [ $? -le 2 ]
  # GNU time puts "Command exited with non-zero status N" first when the exit code is
  # not 0 (a report exits with its verdict): the figures are on the last line.
  read -r wall user sys kib < <(tail -n 1 "$dir/time")
  walls+=("$wall")
  rss+=("$kib")
  cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
bytes=$(wc -c <"$dir/report.html")
polylines=$(grep -o '<polyline' "$dir/report.html" | wc -l)
stages=$("$bin/examples/synthetic_soak" "$store" --stages 2>&1)
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo "| what | value |"
echo "|---|---|"
echo "| wall time, median of 5 (\`gonogo report 1 --format html\`, whole process) | $(median "${walls[@]}") s |"
echo "| CPU time (user + system), median of 5 | $(median "${cpus[@]}") s |"
echo "| all five, wall | ${walls[*]} s |"
echo "| all five, CPU | ${cpus[*]} s |"
echo "| peak RSS of the process, median of 5 | $(median "${rss[@]}") KiB |"
echo "| page size | ${bytes} bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }') MiB) |"
echo "| polylines drawn | ${polylines} |"
echo "| stages, in process (\`synthetic_soak --stages\`) | ${stages} |"
echo "| load average while measuring (1, 5, 15 min) | ${load} |"
echo "| nproc | $(nproc) |"
echo "| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') |"
echo "| gonogo | $("$bin/gonogo" --version) |"
echo "| date | $(date -u +%Y-%m-%dT%H:%MZ) |"
