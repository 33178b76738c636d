#!/usr/bin/env bash
# Cost of gonogo's resource sampler at 10 Hz: the same near-idle campaign (1 request/s
# to the pinned nginx) with sample_interval = 100ms and with sample_interval = 10s,
# interleaved for ROUNDS rounds; the difference in gonogo's own CPU time, divided by
# the run's length, is what sampling at 10 Hz costs (in cores).
#
#   bench/sampling-overhead.sh [RESULTS.md]
#
# Environment: ROUNDS (3), DURATION seconds (30), plus those of lib.sh.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-30}"
OUT="${1:-}"
need gonogo

bench_work sampling

spec() {
    cat <<SPEC
name = "bench-sampling"

[settings]
interval = "1s"
sample_interval = "$1"

$(nginx_service_toml "$WORK/nginx")

[[phase]]
name = "idle"
kind = "steady"
workload = "get"
rate = 1
duration = "${DURATION}s"

[[criterion]]
phase = "idle"
metric = "rss.max"
op = "<="
value = "1GiB"
SPEC
}

FACTS="$(machine_facts)"
: >"$WORK/raw.tsv"
for round in $(seq "$ROUNDS"); do
    for interval in 100ms 10s; do
        spec "$interval" >"$WORK/spec.toml"
        port_free
        rm -f "$WORK/evidence.db"
        python3 "$BENCH_DIR/measure.py" "$WORK/m.json" -- taskset -c "$GEN_CPU" "$GONOGO" run \
            "$WORK/spec.toml" --store "$WORK/evidence.db" --quiet >"$WORK/gonogo.log" 2>&1 || true
        samples=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM resource_samples").fetchone()[0])' "$WORK/evidence.db" 2>/dev/null || echo "?")
        read -r cpu wall < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["cpu_s"], m["wall_s"])' "$WORK/m.json")
        printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$interval" "$cpu" "$wall" "$samples" | tee -a "$WORK/raw.tsv" >&2
    done
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

{
    results_head "Resource sampling overhead at 10 Hz" \
        "${DURATION} s phase at 1 request/s; sample_interval 100ms vs 10s, $ROUNDS interleaved rounds; gonogo on core $GEN_CPU" \
        "command: \`${RT:+RT=$RT }ROUNDS=$ROUNDS DURATION=$DURATION bench/sampling-overhead.sh\`"
    python3 - "$WORK/raw.tsv" "$DURATION" <<'PY'
import statistics, sys
from collections import defaultdict
from report_json import rows as raw_rows
rows = defaultdict(dict)
for rnd, interval, cpu, wall, samples in raw_rows(sys.argv[1]):
    rows[rnd][interval] = (float(cpu), float(wall), samples)
duration = float(sys.argv[2])
print("| round | gonogo CPU s, 100ms | samples | gonogo CPU s, 10s | samples | difference, % of a core |")
print("|---|---|---|---|---|---|")
diffs = []
for rnd, r in sorted(rows.items()):
    fast, slow = r["100ms"], r["10s"]
    diff = (fast[0] - slow[0]) / duration * 100
    diffs.append(diff)
    print(f"| {rnd} | {fast[0]:.2f} | {fast[2]} | {slow[0]:.2f} | {slow[2]} | {diff:.2f} |")
print()
print(f"Sampling at 10 Hz costs **{statistics.median(diffs):.2f}% of a core** (median over rounds; "
      f"range {min(diffs):.2f}–{max(diffs):.2f}; target < 1%). CPU is gonogo's own process, "
      "user+system, children excluded (bench/measure.py); clock-tick resolution 10 ms.")
PY
} | publish
