#!/usr/bin/env bash
# Open-model accuracy: gonogo offers planned rates up to 90% of the closed-model
# maximum to nginx (same setup as http-throughput.sh) and reports, per rate, the
# achieved rate against the plan, the schedule lag p99, and the generator's CPU.
#
#   bench/open-model.sh [RESULTS.md]
#
# Environment: MAX (requests/s; measured with a closed-model gonogo run of
# CONNECTIONS connections when unset), FRACTIONS ("0.25 0.5 0.75 0.9"), DURATION
# seconds per rate (20), WARMUP seconds (2), MAX_CONNECTIONS (256), plus those of lib.sh.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRACTIONS="${FRACTIONS:-0.25 0.5 0.75 0.9}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
MAX_CONNECTIONS="${MAX_CONNECTIONS:-256}"
OUT="${1:-}"
need gonogo

bench_work open

# A spec with the given phases (TOML text) against the pinned nginx.
spec() {
    cat <<SPEC
name = "bench-open"

[settings]
interval = "1s"
sample_interval = "${SAMPLE_INTERVAL:-1s}"

$(nginx_service_toml "$WORK/nginx")

$1

[[criterion]]
phase = "$2"
metric = "throughput"
op = ">="
value = "1/s"
SPEC
}

run_gonogo() {
    spec "$1" "$2" >"$WORK/spec.toml"
    port_free
    rm -f "$WORK/evidence.db"
    $(gen_prefix) "$GONOGO" run "$WORK/spec.toml" --store "$WORK/evidence.db" \
        --format json --json "$WORK/report.json" --quiet >"$WORK/gonogo.log" 2>&1 || true
}

FACTS="$(machine_facts)"
if [[ -z "${MAX:-}" ]]; then
    run_gonogo "$(printf '[[phase]]\nname = "max"\nkind = "steady"\nworkload = "get"\nconnections = %s\nduration = "10s"\n' "$CONNECTIONS")" max
    MAX=$(python3 -c '
import json, sys
from report_json import workloads
w = next(workloads(json.load(open(sys.argv[1])), "requests", "measured_seconds"))
print(round(w["requests"] / w["measured_seconds"]))' "$WORK/report.json")
    MAX_HOW="measured just before: gonogo closed model, $CONNECTIONS connections, 10 s"
else
    MAX_HOW="given (MAX=$MAX)"
fi

PHASES=""
for f in $FRACTIONS; do
    rate=$(python3 -c "print(round($MAX * $f))")
    PHASES+=$(printf '\n[[phase]]\nname = "rate-%s"\nkind = "steady"\nworkload = "get"\nrate = %s\nmax_connections = %s\nduration = "%ss"\nwarmup = "%ss"\n' \
        "$f" "$rate" "$MAX_CONNECTIONS" "$DURATION" "$WARMUP")
done
run_gonogo "$PHASES" "rate-$(echo "$FRACTIONS" | awk '{print $1}')"
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

{
    results_head "${TITLE:-Open model, planned rates up to 90% of the maximum}" \
        "maximum: $MAX requests/s, $MAX_HOW" \
        "each rate: ${DURATION} s measured after ${WARMUP} s warm-up, max_connections = $MAX_CONNECTIONS; server on core $SERVER_CPU, gonogo on core $GEN_CPU" \
        "command: \`${RT:+RT=$RT }FRACTIONS=\"$FRACTIONS\" DURATION=$DURATION bench/open-model.sh\`"
    python3 - "$WORK/report.json" "$WORK/evidence.db" <<'PY'
import json, sqlite3, sys
from report_json import errors, workloads
report = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
print("| phase | planned/s | achieved/s | achieved ÷ planned | lag p99 ms | generator's own delay p99 ms | response p99 ms | errors | generator CPU, cores | CPU µs per request | server CPU, cores | cap waits | generator-bound intervals |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for w in workloads(report, "requests", "planned_rate"):
    achieved = w["requests"] / w["measured_seconds"]
    planned = w["planned_rate"]
    cpu, length = db.execute(
        "SELECT sum(i.generator_cpu_seconds), sum(i.length_us) FROM intervals i "
        "JOIN phases p ON p.id = i.phase_id WHERE p.name = ? AND i.warmup = 0", (w["phase"],)).fetchone()
    start, end = db.execute(
        "SELECT min(i.start_us), max(i.start_us + i.length_us) FROM intervals i "
        "JOIN phases p ON p.id = i.phase_id WHERE p.name = ? AND i.warmup = 0", (w["phase"],)).fetchone()
    # The service's own process tree (gonogo's resource samples), over the measured part.
    samples = db.execute(
        "SELECT at_us, cpu_seconds FROM resource_samples WHERE at_us BETWEEN ? AND ? ORDER BY at_us",
        (start, end)).fetchall()
    server = "-"
    if len(samples) >= 2 and samples[-1][0] > samples[0][0]:
        server = f"{(samples[-1][1] - samples[0][1]) / ((samples[-1][0] - samples[0][0]) / 1e6):.3f}"
    cores = cpu / (length / 1e6)
    print(f"| {w['phase']} | {planned:.0f} | {achieved:.0f} | {achieved / planned:.4f} | "
          f"{w['lag_p99'] * 1e3:.3f} | {w['generator_delay_p99'] * 1e3:.3f} | {w['response']['p99'] * 1e3:.3f} | "
          f"{errors(w)} | {cores:.3f} | {cpu / w['requests'] * 1e6:.1f} | {server} | "
          f"{w['cap_waits']} | {w['generator_bound_intervals']} |")
print()
print("Targets: achieved within 1% of the plan, schedule lag p99 under 1 ms. Lag runs from the intended to the "
      "actual send; the generator's own delay (JSON `generator_delay_p99`) runs from the moment a send was due and held by a "
      "free worker: the rest of the lag is requests waiting for a free worker, which is the service's doing while the "
      "generator has CPU to spare (generator CPU column). Generator CPU is "
      "gonogo's whole process (getrusage, recorded per interval in the evidence store), measured intervals only. Server CPU is nginx's process tree from gonogo's "
      "resource samples over the same span: at 1.0 the server's core is full and requests queue in the service. "
      "Cap waits: requests that found every connection busy (max_connections) and waited for one; "
      "generator-bound intervals: gonogo's own send delay p90 over 5 ms, or it sent "
      "under 90% of the plan with connections to spare (the self-check that makes criteria INCONCLUSIVE).")
PY
} | publish
