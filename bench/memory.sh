#!/usr/bin/env bash
# Generator memory over a long run: gonogo offers RATE requests/s (open model) to the
# pinned nginx for MINUTES minutes; its RSS is read from /proc every 10 s. Reports the
# RSS after the first minute and at the end, the growth between them, and the
# least-squares slope.
#
#   bench/memory.sh [RESULTS.md]
#
# Environment: RATE (20000), MINUTES (10), SAMPLE_INTERVAL (gonogo's resource sampler,
# "100ms"), plus those of lib.sh.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATE="${RATE:-20000}"
MINUTES="${MINUTES:-10}"
SAMPLE_INTERVAL="${SAMPLE_INTERVAL:-100ms}"
OUT="${1:-}"
need gonogo

bench_work memory

cat >"$WORK/spec.toml" <<SPEC
name = "bench-memory"

[settings]
interval = "1s"
sample_interval = "$SAMPLE_INTERVAL"

$(nginx_service_toml "$WORK/nginx")

[[phase]]
name = "long"
kind = "steady"
workload = "get"
rate = $RATE
max_connections = 256
duration = "${MINUTES}m"
warmup = "10s"

[[criterion]]
phase = "long"
metric = "throughput"
op = ">="
value = "1/s"
SPEC

FACTS="$(machine_facts)"
port_free
$(gen_prefix) "$GONOGO" run "$WORK/spec.toml" --store "$WORK/evidence.db" \
    --format json --json "$WORK/report.json" --quiet >"$WORK/gonogo.log" 2>&1 &
PID=$!
: >"$WORK/rss.tsv"
T0=$(date +%s)
while kill -0 "$PID" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status" 2>/dev/null || true)
    [[ -n "$rss" ]] && printf '%s\t%s\n' "$(($(date +%s) - T0))" "$rss" >>"$WORK/rss.tsv"
    sleep 10
done
wait "$PID" || true
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

{
    results_head "Generator memory over a ${MINUTES}-minute run" \
        "open model, $RATE requests/s planned, ${MINUTES} min after 10 s warm-up, 1 s evidence intervals, resource sampling every $SAMPLE_INTERVAL" \
        "command: \`RATE=$RATE MINUTES=$MINUTES bench/memory.sh\`"
    python3 - "$WORK/rss.tsv" "$WORK/report.json" <<'PY'
import json, sys
from report_json import workloads
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
w = next(workloads(json.load(open(sys.argv[2])), "requests", "measured_seconds"))
late = [(t, r) for t, r in rows if t >= 60]
first, last = late[0], late[-1]
n = len(late)
mt = sum(t for t, _ in late) / n
mr = sum(r for _, r in late) / n
slope = sum((t - mt) * (r - mr) for t, r in late) / max(1e-9, sum((t - mt) ** 2 for t, _ in late))
print(f"- requests completed: {w['requests']} ({w['requests'] / w['measured_seconds']:.0f}/s measured)")
print(f"- RSS at {first[0]} s: {first[1] / 1024:.1f} MiB; at {last[0]} s: {last[1] / 1024:.1f} MiB; "
      f"growth: **{(last[1] - first[1]) / 1024:.2f} MiB** (target < 5 MB); max: {max(r for _, r in rows) / 1024:.1f} MiB")
print(f"- least-squares slope after the first minute: {slope * 60 / 1024:.3f} MiB per minute ({n} samples)")
print()
print("RSS (VmRSS of the gonogo process) every minute: " + ", ".join(
    f"{t // 60} min {r / 1024:.1f}" for t, r in rows if t % 60 < 10))
PY
} | publish
