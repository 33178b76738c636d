# Shared helpers for the bench scripts: prerequisites, machine facts, an nginx that
# serves a small static body on loopback, pinned to one core. Sourced, not run.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
PORT="${PORT:-18080}"
SERVER_CPU="${SERVER_CPU:-1}"
GEN_CPU="${GEN_CPU:-0}"
# Priority of the server and the generator (every tool alike). On a machine shared with
# other work (compile jobs), -20 keeps that work from taking their cores' time and from
# delaying their wake-ups; set NICE=0 to measure without it.
NICE="${NICE:--20}"
# With RT set (a SCHED_FIFO priority, 1-99), the server and the generator run under
# `chrt -f $RT` instead of nice: no ordinary task on the machine can then delay them
# (a way to see how much of a wall-clock figure is other work's doing; needs root).
RT="${RT:-}"
# The priority prefix of the server's and the generator's command lines.
prio() { if [[ -n "$RT" ]]; then echo chrt -f "$RT"; else echo nice -n "$NICE"; fi; }
GONOGO="${GONOGO:-$REPO_ROOT/target/release/gonogo}"
# oha is a long `cargo install`; look for it on PATH and in the cache used by the bench.
OHA="${OHA:-$(command -v oha || echo "${OHA_ROOT:-/work/tools}/bin/oha")}"

# The scripts' inline Python imports bench/report_json.py.
export PYTHONPATH="$BENCH_DIR${PYTHONPATH:+:$PYTHONPATH}"

die() { echo "bench: $*" >&2; exit 1; }

# A fresh work dir in $WORK for the script named $1 (removed at exit unless KEEP is
# set), holding an nginx prefix in $WORK/nginx whose page is $URL. At exit a running
# nginx is stopped (nginx_stop does nothing when none runs).
bench_work() {
    WORK="$(mktemp -d "/tmp/gonogo-$1.XXXXXX")"
    chmod 755 "$WORK"
    trap 'nginx_stop; [[ -n "${KEEP:-}" ]] || rm -rf "$WORK"' EXIT
    nginx_prefix "$WORK/nginx"
    URL="http://127.0.0.1:$PORT/index.html"
}

# The results section on stdin: kept in $WORK/table.md, copied to $OUT when the script
# was given one, and printed.
publish() {
    cat >"$WORK/table.md"
    if [[ -n "$OUT" ]]; then cp "$WORK/table.md" "$OUT"; fi
    cat "$WORK/table.md"
}

# Check what the bench needs; print what is missing and how to get it.
need() {
    local missing=()
    command -v nginx >/dev/null || missing+=("nginx (apt-get install -y nginx)")
    command -v taskset >/dev/null || missing+=("taskset (apt-get install -y util-linux)")
    [[ -x /usr/bin/time ]] || missing+=("/usr/bin/time (apt-get install -y time)")
    command -v python3 >/dev/null || missing+=("python3")
    for tool in "$@"; do
        case "$tool" in
            wrk) command -v wrk >/dev/null || missing+=("wrk (apt-get install -y wrk)") ;;
            h2load) command -v h2load >/dev/null || missing+=("h2load (apt-get install -y nghttp2-client)") ;;
            gonogo) [[ -x "$GONOGO" ]] || missing+=("gonogo at $GONOGO (cargo build --release -p gonogo, or set GONOGO)") ;;
        esac
    done
    if ((${#missing[@]})); then
        printf 'bench: missing prerequisite: %s\n' "${missing[@]}" >&2
        exit 1
    fi
    if (($(nproc) <= SERVER_CPU || $(nproc) <= GEN_CPU)); then
        die "need cores $GEN_CPU and $SERVER_CPU; this machine has $(nproc)"
    fi
}

# The head of a results section: the title $1, the machine facts taken at the start
# ($FACTS), the load average at the end ($LOAD_END), then each further argument as a
# list item (the setup, the command), and a blank line.
results_head() {
    echo "### $1"
    echo
    echo "$FACTS"
    echo "- load average at end: $LOAD_END"
    shift
    printf -- '- %s\n' "$@"
    echo
}

have_oha() { [[ -x "$OHA" ]]; }

# Markdown lines describing the machine and the tools.
machine_facts() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- cores: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    echo "- kernel: $(uname -sr); memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the benchmark's own server and generator count in it; a shared machine); server and generator at $(if [[ -n "$RT" ]]; then echo "SCHED_FIFO priority $RT"; else echo "nice $NICE"; fi)"
    echo "- nginx: $(nginx -v 2>&1 | sed 's/.*version: //')"
    command -v wrk >/dev/null && echo "- wrk: $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
    command -v h2load >/dev/null && echo "- h2load: $(h2load --version 2>&1 | head -1)"
    if have_oha; then echo "- oha: $("$OHA" --version 2>&1 | head -1)"; else echo "- oha: not found at $OHA (cargo install oha --locked had not finished or failed), left out"; fi
    [[ -x "$GONOGO" ]] && echo "- gonogo: binary $GONOGO; checkout $(git -C "$REPO_ROOT" rev-parse --short HEAD)$(git -C "$REPO_ROOT" diff --quiet HEAD -- crates || echo ' (with uncommitted changes)')"
    return 0
}

# Write an nginx prefix dir in $1: one worker, no access log, a small static body.
nginx_prefix() {
    local dir="$1"
    mkdir -p "$dir/www" "$dir/logs"
    chmod 755 "$dir" "$dir/www"
    printf 'hello from the gonogo bench\n' >"$dir/www/index.html"
    chmod 644 "$dir/www/index.html"
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:$PORT;
        location / { root $dir/www; }
        # Requests served so far, for bench/kernel-work.sh (never hit under load).
        location = /nginx-status { stub_status; }
    }
}
CONF
}

# The [service] and [[workload]] tables every bench spec shares: nginx with prefix $1,
# pinned and prioritised like the anchors' nginx (nginx_start below), serving one small
# static page that the workload GETs. "daemon off;" stays one argument.
nginx_service_toml() {
    local args=($(prio) taskset -c "$SERVER_CPU" nginx -p "$1" -c "$1/nginx.conf" -g "daemon off;")
    local quoted
    quoted=$(printf '"%s", ' "${args[@]}")
    cat <<TOML
[service]
command = [${quoted%, }]
port = $PORT
ready = { tcp = "127.0.0.1:$PORT", timeout = "10s", interval = "20ms" }

[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:$PORT/index.html", expect_status = [200], timeout = "5s" }
TOML
}

# A gonogo spec named $1: one closed-model phase "max" of $CONNECTIONS connections for
# $DURATION seconds, no warm-up, against the nginx of prefix $WORK/nginx.
closed_spec() {
    cat <<SPEC
name = "$1"

[settings]
interval = "1s"

$(nginx_service_toml "$WORK/nginx")

[[phase]]
name = "max"
kind = "steady"
workload = "get"
connections = $CONNECTIONS
duration = "${DURATION}s"
warmup = "0s"

[[criterion]]
phase = "max"
metric = "throughput"
op = ">="
value = "1/s"
SPEC
}

# Prefix for a generator's command line: its priority and its core.
gen_prefix() { echo "$(prio)" taskset -c "$GEN_CPU"; }

wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.05
    done
    die "nothing listens on 127.0.0.1:$PORT"
}

port_free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "port $PORT is in use; set PORT to a free one"
    fi
}

NGINX_PID=""
nginx_start() {
    port_free
    $(prio) taskset -c "$SERVER_CPU" nginx -p "$1" -c "$1/nginx.conf" -g "daemon off;" &
    NGINX_PID=$!
    wait_port
}
nginx_stop() {
    if [[ -n "$NGINX_PID" ]]; then
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=""
    fi
}

# Fields of a `/usr/bin/time -v` report: "cpu_seconds max_rss_kib".
time_fields() {
    awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
        END {printf "%.3f %d\n", u+s, r}' "$1"
}
