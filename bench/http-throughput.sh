#!/usr/bin/env bash
# Closed-model maximum throughput: gonogo's HTTP driver against wrk, h2load and oha,
# all loading the same nginx (one worker, static body, loopback), the server pinned
# to core SERVER_CPU and the generator to core GEN_CPU. Runs are interleaved
# (gonogo wrk h2load oha, gonogo wrk …) for ROUNDS rounds; the table reports the
# median and the range. See bench/README.md.
#
#   bench/http-throughput.sh [RESULTS.md]       (default: print the table)
#
# Environment: ROUNDS (5), DURATION seconds (10), CONNECTIONS (64), PORT (18080),
# SERVER_CPU (1), GEN_CPU (0), GONOGO (target/release/gonogo), OHA (oha on PATH or
# /work/tools/bin/oha), TOOLS (default: "gonogo wrk h2load oha"; add "gonogo-base" with
# GONOGO_BASE=<another gonogo binary> to compare two builds of gonogo in the same run).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
TOOLS="${TOOLS:-gonogo wrk h2load oha}"
OUT="${1:-}"

need gonogo wrk h2load
if ! have_oha; then
    echo "bench: oha not found at $OHA; it is left out (cargo install oha --locked)" >&2
    TOOLS="${TOOLS//oha/}"
fi

bench_work bench

closed_spec bench-closed >"$WORK/spec.toml"

RAW="$WORK/raw.tsv"
: >"$RAW"
MEASURE="$BENCH_DIR/measure.py"

# One run of one tool; appends "round tool requests seconds cpu_s rss_kib errors user_s sys_s" to RAW.
run_tool() {
    local round="$1" tool="$2" log="$WORK/$2-$1.log" m="$WORK/$2-$1.json"
    local requests seconds errors=0
    case "$tool" in
        gonogo|gonogo-base)
            local binary="$GONOGO"
            [[ "$tool" == gonogo-base ]] && binary="$GONOGO_BASE"
            port_free
            # A store per build: one migrated by a newer build refuses an older one. And
            # no report left from an earlier run to be read if this one fails.
            rm -f "$WORK/report.json"
            python3 "$MEASURE" "$m" -- $(gen_prefix) "$binary" run "$WORK/spec.toml" \
                --store "$WORK/$tool.db" --format json --json "$WORK/report.json" --quiet \
                >"$log" 2>&1 || true
            read -r requests seconds errors < <(python3 - "$WORK/report.json" <<'PY'
import json, sys
from report_json import errors, workloads
w = next(workloads(json.load(open(sys.argv[1])), "requests", "measured_seconds"))
print(w["requests"], w["measured_seconds"], errors(w))
PY
            )
            ;;
        wrk)
            nginx_start "$WORK/nginx"
            python3 "$MEASURE" "$m" -- $(gen_prefix) wrk -t1 -c"$CONNECTIONS" \
                -d"${DURATION}s" "$URL" >"$log" 2>&1
            nginx_stop
            read -r requests seconds < <(awk '/requests in/ {r=$1; s=$4; sub(/s,$/, "", s); print r, s}' "$log")
            errors=$(awk '/Non-2xx|Socket errors/ {n++} END {print n+0}' "$log")
            ;;
        h2load)
            nginx_start "$WORK/nginx"
            python3 "$MEASURE" "$m" -- $(gen_prefix) h2load --h1 -t1 -c"$CONNECTIONS" \
                -D "$DURATION" "$URL" >"$log" 2>&1
            nginx_stop
            read -r requests seconds errors < <(awk '
                /^finished in/ {s=$3; sub(/s,$/, "", s)}
                /^requests:/ {r=$8; e=$10 + $12}
                END {print r, s, e}' "$log")
            ;;
        oha)
            nginx_start "$WORK/nginx"
            python3 "$MEASURE" "$m" -- $(gen_prefix) "$OHA" -z "${DURATION}s" \
                -c "$CONNECTIONS" --no-tui --output-format json "$URL" >"$log" 2>&1
            nginx_stop
            read -r requests seconds errors < <(python3 - "$log" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
report = json.loads(text[text.index("{"):])
codes = report.get("statusCodeDistribution", {})
ok = codes.get("200", 0)
# Requests cut off by the end of the run are not failures of the server or the tool.
cut = sum(n for e, n in report.get("errorDistribution", {}).items() if "deadline" not in e)
print(ok, report["summary"]["total"], sum(codes.values()) - ok + cut)
PY
            )
            ;;
    esac
    read -r cpu rss user sys < <(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["cpu_s"], m["rss_kib"], m["user_s"], m["sys_s"])' "$m")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$tool" "$requests" "$seconds" "$cpu" "$rss" "$errors" "$user" "$sys" | tee -a "$RAW" >&2
}

FACTS="$(machine_facts)"
for round in $(seq "$ROUNDS"); do
    for tool in $TOOLS; do
        run_tool "$round" "$tool"
    done
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"

{
    results_head "${TITLE:-Closed model, maximum throughput}" \
        "$CONNECTIONS connections, ${DURATION} s per run, $ROUNDS interleaved rounds ($TOOLS); server on core $SERVER_CPU, generator on core $GEN_CPU" \
        "command: \`${RT:+RT=$RT }ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNECTIONS TOOLS=\"$TOOLS\" bench/http-throughput.sh\`"
    python3 "$BENCH_DIR/report.py" "$RAW"
} | publish
