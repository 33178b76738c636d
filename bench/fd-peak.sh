#!/usr/bin/env bash
# Peak file descriptors gonogo holds during a run, less its connections: what the
# file-descriptor preflight (crates/gonogo/src/api/preflight.rs, FD_MARGIN plus
# FD_PER_CORE per core) must leave room for. Closed-model runs of N connections
# against the testbed (200 ms a request, so every connection stays open), without and
# with a latency fault (the fault proxy costs 2 more descriptors per connection);
# /proc/PID/fd of the gonogo process counted every 20 ms. gonogo starts one load
# runtime per core it may use; each row says how many (`taskset` limits them).
#
# Usage: bench/fd-peak.sh [OUT.md]   (GONOGO, TESTBED: the binaries; release by default)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GONOGO="${GONOGO:-$REPO_ROOT/target/release/gonogo}"
TESTBED="${TESTBED:-$REPO_ROOT/target/release/testbed}"
OUT="${1:-}"
for bin in "$GONOGO" "$TESTBED"; do
    [[ -x "$bin" ]] || { echo "bench: missing $bin (cargo build --release --workspace)" >&2; exit 1; }
done
GONOGO="$(realpath "$GONOGO")"
TESTBED="$(realpath "$TESTBED")"
WORK="$(mktemp -d /tmp/gonogo-fd-peak.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# The spec of a closed-model phase of $1 connections; with $2 = fault, a latency fault
# over the whole phase.
spec() {
    cat <<EOF
[service]
command = ["$TESTBED", "--listen", "127.0.0.1:{port}", "--latency", "200ms"]
port = "auto"
ready = { http = "http://127.0.0.1:{port}/health", timeout = "10s" }

[[workload]]
name = "get"
http = { method = "GET", url = "http://127.0.0.1:{port}/kv/{key}", expect_status = [200, 404] }

[[phase]]
name = "p"
kind = "steady"
connections = $1
duration = "3s"
EOF
    if [[ "$2" == fault ]]; then
        printf '\n[[fault]]\nphase = "p"\nkind = "latency"\ndelay = "1ms"\nfrom = "0s"\nto = "3s"\n'
    fi
}

# The most descriptors gonogo held during a run of spec($1, $2) on the cores $3.
peak() {
    local dir="$WORK/$1-$2-$3" max=0 n pid
    mkdir -p "$dir"
    spec "$1" "$2" >"$dir/c.toml"
    taskset -c "$3" "$GONOGO" run "$dir/c.toml" --quiet --store "$dir/s.db" >"$dir/out" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        n=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        ((n > max)) && max=$n
        sleep 0.02
    done
    local rc=0
    wait "$pid" || rc=$?
    # GO, NO-GO or INCONCLUSIVE: the run ran; anything else is no measurement.
    ((rc <= 2)) || { echo "bench: gonogo exited $rc:" >&2; cat "$dir/out" >&2; exit 1; }
    echo "$max"
}

section() {
    echo "### Peak file descriptors of gonogo besides its connections"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); cores: $(nproc); kernel: $(uname -sr)"
    echo "- gonogo: $GONOGO; checkout $(git -C "$REPO_ROOT" rev-parse --short HEAD)"
    echo "- command: \`GONOGO=$GONOGO TESTBED=$TESTBED bench/fd-peak.sh\`"
    echo
    echo "| cores | connections | fault proxy | peak fds | fds per connection | peak − connections × per connection |"
    echo "|---:|---:|---|---:|---:|---:|"
    local all="0-$(($(nproc) - 1))" cores n fault per max
    for cores in 0 "$all"; do
        for n in 1 64 256; do
            for fault in none fault; do
                per=1
                [[ "$fault" == fault ]] && per=3
                max=$(peak "$n" "$fault" "$cores")
                echo "| $(taskset -c "$cores" nproc) | $n | $fault | $max | $per | $((max - n * per)) |"
            done
        done
    done
}

section | tee "$WORK/section.md"
if [[ -n "$OUT" ]]; then cp "$WORK/section.md" "$OUT"; fi
