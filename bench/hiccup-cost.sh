#!/usr/bin/env bash
# The hiccup meter's own cost (issue 25): (1) the CPU the meter thread
# (`gonogo-hiccup`) uses per second of a load phase, read from its
# /proc/<pid>/task/<tid>/schedstat; (2) requests per CPU-second of the closed-model
# driver with the meter on (`gonogo`) and off (`gonogo-base`, the same binary run
# with GONOGO_HICCUP=off), interleaved rounds of bench/http-throughput.sh; then
# the same with the meter's sleep at 10 ms (GONOGO_HICCUP_SLEEP_MS=10) against off.
#
#   bench/hiccup-cost.sh [RESULTS.md]       (default: print the section)
#
# Environment: as bench/http-throughput.sh (ROUNDS, DURATION, CONNECTIONS, ...);
# METER_SECONDS (10): length of the phase the meter thread is timed over.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="${1:-}"
METER_SECONDS="${METER_SECONDS:-10}"
need gonogo
bench_work hiccup

# (1) The meter thread's CPU: a closed-model phase against nginx, the thread found
# by name, its on-CPU time read 2 s into the phase and 2 s before its end.
CONNECTIONS="${CONNECTIONS:-64}" DURATION="$METER_SECONDS" closed_spec bench-hiccup >"$WORK/spec.toml"
port_free
$(gen_prefix) "$GONOGO" run "$WORK/spec.toml" --store "$WORK/meter.db" --quiet \
    >"$WORK/meter.log" 2>&1 &
GEN=$!
tid=""
for _ in $(seq 200); do
    for task in /proc/$GEN/task/*; do
        [[ "$(cat "$task/comm" 2>/dev/null)" == gonogo-hiccup ]] && tid="${task##*/}"
    done
    [[ -n "$tid" ]] && break
    sleep 0.05
done
[[ -n "$tid" ]] || die "no gonogo-hiccup thread in gonogo (pid $GEN): see $WORK/meter.log"
sleep 2
read -r run0 _ < "/proc/$GEN/task/$tid/schedstat"
t0=$(date +%s.%N)
sleep $((METER_SECONDS - 4))
read -r run1 _ < "/proc/$GEN/task/$tid/schedstat"
t1=$(date +%s.%N)
wait "$GEN" || true
METER_LINE=$(python3 -c "
run = ($run1 - $run0) / 1e9; wall = $t1 - $t0
print(f'| meter thread | {wall:.2f} s | {run * 1e3:.2f} ms | {run / wall * 1e3:.3f} ms per s ({run / wall * 100:.3f}% of a core) |')")

# (2) Requests per CPU-second with and without the meter, interleaved.
cat >"$WORK/gonogo-off" <<WRAP
#!/bin/sh
GONOGO_HICCUP=off exec "$GONOGO" "\$@"
WRAP
cat >"$WORK/gonogo-10ms" <<WRAP
#!/bin/sh
GONOGO_HICCUP_SLEEP_MS=10 exec "$GONOGO" "\$@"
WRAP
chmod +x "$WORK/gonogo-off" "$WORK/gonogo-10ms"
ROUNDS="${ROUNDS:-5}" DURATION="${DURATION:-5}" TOOLS="gonogo gonogo-base" \
    GONOGO_BASE="$WORK/gonogo-off" TITLE="Closed model with the hiccup meter on (gonogo, 1 ms sleep) and off (gonogo-base)" \
    "$BENCH_DIR/http-throughput.sh" "$WORK/throughput.md" >/dev/null
ROUNDS="${ROUNDS:-5}" DURATION="${DURATION:-5}" TOOLS="gonogo gonogo-base" \
    GONOGO="$WORK/gonogo-10ms" GONOGO_BASE="$WORK/gonogo-off" \
    TITLE="Closed model with the meter's sleep at 10 ms (gonogo, GONOGO_HICCUP_SLEEP_MS=10) and off (gonogo-base)" \
    "$BENCH_DIR/http-throughput.sh" "$WORK/throughput-10ms.md" >/dev/null

{
    echo "### The hiccup meter's cost (issue 25)"
    echo
    echo "command: \`ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-5} METER_SECONDS=$METER_SECONDS bench/hiccup-cost.sh\`"
    echo "(gonogo-base is the same binary with \`GONOGO_HICCUP=off\`: no meter thread, no"
    echo "scheduling reads)."
    echo
    echo "| what | timed over | on-CPU time | per second of load |"
    echo "|---|---|---|---|"
    echo "$METER_LINE"
    echo
    sed 's/^### /#### /' "$WORK/throughput.md"
    echo
    sed 's/^### /#### /' "$WORK/throughput-10ms.md"
} | publish
