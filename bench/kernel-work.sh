#!/usr/bin/env bash
# Kernel work per request in the closed-model maximum-throughput setup: for gonogo and
# the anchors, how many system calls, context switches and TCP segments each request
# costs, and how much CPU the generator and the server spend on it. This is where the
# floor under "requests per CPU-second" is: a tool can only save its own user time and
# the system calls it makes; the TCP segments and their processing are the same for all.
#
#   bench/kernel-work.sh [RESULTS.md]
#
# Each run lasts DURATION seconds; after SKIP seconds, a WINDOW-second measurement
# (`perf stat` on the generator's process and on nginx's worker, plus nginx's own
# request counter from stub_status and the host's TCP OutSegs) is taken in the middle
# of it. Tools run interleaved for ROUNDS rounds.
#
# Environment: ROUNDS (3), DURATION (10), SKIP (3), WINDOW (4), CONNECTIONS (64),
# TOOLS ("gonogo wrk h2load"), plus those of lib.sh. Needs perf and root (or
# perf_event_paranoid ≤ -1) for the raw_syscalls tracepoint.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
SKIP="${SKIP:-3}"
WINDOW="${WINDOW:-4}"
CONNECTIONS="${CONNECTIONS:-64}"
TOOLS="${TOOLS:-gonogo wrk h2load}"
OUT="${1:-}"
need gonogo wrk h2load
command -v perf >/dev/null || die "missing prerequisite: perf (apt-get install -y linux-perf)"
((SKIP + WINDOW + 1 < DURATION)) || die "SKIP + WINDOW must end at least 1 s before DURATION"

bench_work kernel

closed_spec bench-kernel >"$WORK/spec.toml"

RAW="$WORK/raw.tsv"
: >"$RAW"

# The measurement window, run by `perf stat` as its workload so that the counters on
# the generator cover exactly the span between the two snapshots. A snapshot is:
# requests nginx has served (stub_status), TCP segments the host has sent (both ends of
# the loopback connections), the generator's user and system clock ticks, and nginx's
# worker's clock ticks and context switches.
cat >"$WORK/window.sh" <<'WINDOW'
#!/usr/bin/env bash
# window.sh PORT GEN WORKER SECONDS OUT
set -euo pipefail
port="$1" gen="$2" worker="$3" seconds="$4" out="$5"
served() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET /nginx-status HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    awk '/^ *[0-9]+ +[0-9]+ +[0-9]+ *$/ { print $3 }' <&3
    exec 3<&-
}
ticks() { awk '{ sub(/^.*\) /, ""); printf "%s %s", $12, $13 }' "/proc/$1/stat"; }
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"; }
snapshot() {
    echo "$(served) $(awk '/^Tcp:/ { if (seen) print $12; seen = 1 }' /proc/net/snmp) $(ticks "$gen") $(ticks "$worker") $(switches "$worker")"
}
snapshot >"$out"
sleep "$seconds"
snapshot >>"$out"
WINDOW

# Measure the window of one run whose generator is process $3.
measure() {
    local round="$1" tool="$2" gen="$3" master worker
    sleep "$SKIP"
    master="$(cat "$WORK/nginx/nginx.pid")"
    worker="$(pgrep -P "$master" | head -1)"
    [[ -n "$worker" ]] || die "no nginx worker under master $master"
    perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter -p "$gen" \
        -o "$WORK/gen.csv" -- bash "$WORK/window.sh" "$PORT" "$gen" "$worker" "$WINDOW" "$WORK/snap.txt"
    python3 - "$round" "$tool" "$WORK/snap.txt" "$WORK/gen.csv" "$(getconf CLK_TCK)" <<'PY' | tee -a "$RAW" >&2
import sys
rnd, tool, snap, gen, hz = sys.argv[1:]
before, after = ([int(x) for x in line.split()] for line in open(snap))
d = [b - a for a, b in zip(before, after)]
requests, segs, gen_user, gen_sys, srv_user, srv_sys, srv_cs = d
counters = {}
for line in open(gen):
    parts = line.strip().split(",")
    if len(parts) > 2 and parts[0] and parts[0][0].isdigit():
        counters[parts[2]] = float(parts[0])
hz = int(hz)
print("\t".join(str(v) for v in (rnd, tool, requests, segs,
    counters["task-clock"], counters["context-switches"], counters["raw_syscalls:sys_enter"],
    gen_user / hz, gen_sys / hz, (srv_user + srv_sys) / hz, srv_cs)))
PY
}

run_tool() {
    local round="$1" tool="$2" pid
    port_free
    case "$tool" in
        gonogo)
            $(gen_prefix) "$GONOGO" run "$WORK/spec.toml" --store "$WORK/evidence.db" --quiet \
                >"$WORK/gonogo.log" 2>&1 &
            pid=$!
            for _ in $(seq 100); do [[ -s "$WORK/nginx/nginx.pid" ]] && break; sleep 0.05; done
            ;;
        wrk)
            nginx_start "$WORK/nginx"
            $(gen_prefix) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL" >"$WORK/wrk.log" 2>&1 &
            pid=$!
            ;;
        h2load)
            nginx_start "$WORK/nginx"
            $(gen_prefix) h2load --h1 -t1 -c"$CONNECTIONS" -D "$DURATION" "$URL" >"$WORK/h2load.log" 2>&1 &
            pid=$!
            ;;
        *) die "unknown tool $tool" ;;
    esac
    # `nice` and `taskset` exec the tool, so $pid is the generator itself.
    measure "$round" "$tool" "$pid"
    wait "$pid" || true
    [[ "$tool" == gonogo ]] || nginx_stop
    rm -f "$WORK/nginx/nginx.pid" "$WORK/evidence.db"
}

FACTS="$(machine_facts)"
for round in $(seq "$ROUNDS"); do
    for tool in $TOOLS; do
        run_tool "$round" "$tool"
    done
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

{
    results_head "${TITLE:-Kernel work per request (closed model, maximum throughput)}" \
        "$CONNECTIONS connections, runs of ${DURATION} s, measured from ${SKIP} s for ${WINDOW} s; $ROUNDS interleaved rounds ($TOOLS); server on core $SERVER_CPU, generator on core $GEN_CPU" \
        "command: \`${RT:+RT=$RT }ROUNDS=$ROUNDS DURATION=$DURATION SKIP=$SKIP WINDOW=$WINDOW CONNECTIONS=$CONNECTIONS TOOLS=\"$TOOLS\" bench/kernel-work.sh\`"
    python3 - "$RAW" "$WINDOW" <<'PY'
import statistics, sys
from collections import defaultdict
from report_json import rows
runs = defaultdict(list)
for rnd, tool, req, segs, gms, gcs, gsys, gu, gs, sms, scs in rows(sys.argv[1]):
    req = int(req)
    if req <= 0:
        continue
    runs[tool].append({
        "rate": req / float(sys.argv[2]),
        "gen_us": float(gms) * 1e3 / req,
        "user_us": float(gu) * 1e6 / req,
        "sys_us": float(gs) * 1e6 / req,
        "syscalls": float(gsys) / req,
        "gen_cs": float(gcs) / req,
        "segs": int(segs) / req,
        "srv_us": float(sms) * 1e6 / req,
        "srv_cs": float(scs) / req,
    })
def cell(tool, key, fmt):
    v = [r[key] for r in runs[tool]]
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"
print("| tool | rounds | requests/s | generator CPU µs per request | of which user / system µs | system calls per request | generator context switches per request | TCP segments per request | server CPU µs per request | server context switches per request |")
print("|---|---|---|---|---|---|---|---|---|---|")
for tool, rows in runs.items():
    med = lambda k: statistics.median(r[k] for r in rows)
    print(f"| {tool} | {len(rows)} | {cell(tool, 'rate', '{:.0f}')} | {cell(tool, 'gen_us', '{:.1f}')} | {med('user_us'):.1f} / {med('sys_us'):.1f} | "
          f"{cell(tool, 'syscalls', '{:.2f}')} | {cell(tool, 'gen_cs', '{:.3f}')} | {cell(tool, 'segs', '{:.3f}')} | "
          f"{cell(tool, 'srv_us', '{:.1f}')} | {cell(tool, 'srv_cs', '{:.3f}')} |")
print()
print("Median (min–max) over the rounds, per request nginx served in the window (its stub_status counter). "
      "Generator CPU is `perf stat` task-clock of the generator's process (all threads), the user/system split "
      "from /proc/PID/stat (clock ticks); system calls are the raw_syscalls:sys_enter tracepoint; TCP segments "
      "are the host's OutSegs (both ends of the loopback connections); server CPU (clock ticks) and context switches are "
      "nginx's worker process, from /proc. Counting system calls on the tracepoint adds a little to each "
      "call, so a tool that makes more of them is charged a little more here than in the throughput section, "
      "which is the one for requests per CPU-second.")
PY
} | publish
