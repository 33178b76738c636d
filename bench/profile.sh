#!/usr/bin/env bash
# Where gonogo's CPU goes in the closed-model maximum-throughput run: `perf record`
# (software cpu-clock event, so it works without hardware counters) on the same
# setup as http-throughput.sh, then the split kernel / gonogo / other and the top
# symbols.
#
#   bench/profile.sh [RESULTS.md]
#
# Environment: DURATION (10), CONNECTIONS (64), plus those of lib.sh.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
OUT="${1:-}"
need gonogo
command -v perf >/dev/null || die "missing prerequisite: perf (apt-get install -y linux-perf)"

WORK="$(mktemp -d /tmp/gonogo-profile.XXXXXX)"
chmod 755 "$WORK"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$WORK"' EXIT
nginx_prefix "$WORK/nginx"

closed_spec bench-profile >"$WORK/spec.toml"

port_free
# gonogo and its children (nginx) are recorded; nginx's samples are left out below.
perf record -q -e cpu-clock -F 4000 -o "$WORK/perf.data" -- $(gen_prefix) "$GONOGO" run \
    "$WORK/spec.toml" --store "$WORK/evidence.db" --quiet >"$WORK/gonogo.log" 2>&1 || true
perf report -i "$WORK/perf.data" --no-children --sort comm,dso,sym --stdio 2>/dev/null |
    grep -E '^ +[0-9.]+%' >"$WORK/symbols.txt" || true

{
    echo "### Where gonogo's CPU goes (closed model, $CONNECTIONS connections, ${DURATION} s)"
    echo
    echo "- load average: $(cut -d' ' -f1-3 /proc/loadavg); command: \`${RT:+RT=$RT }DURATION=$DURATION bench/profile.sh\`"
    echo "- \`perf record -e cpu-clock -F 4000\` on gonogo (all its threads); nginx's samples left out, shares are of gonogo's samples"
    echo
    python3 - "$WORK/symbols.txt" <<'PY'
import sys
from collections import defaultdict
groups = defaultdict(float)
rows = []
for line in open(sys.argv[1]):
    parts = line.split(None, 4)
    if len(parts) < 5 or parts[1] in ("nginx", "taskset", "nice", "perf-exec"):
        continue
    pct, dso, sym = float(parts[0].rstrip("%")), parts[2], parts[4].strip()
    kind = "kernel" if "kernel" in dso else ("gonogo" if "gonogo" in dso else dso)
    groups[kind] += pct
    rows.append((pct, dso, sym))
total = sum(groups.values()) or 1.0
groups = {k: v * 100 / total for k, v in groups.items()}
rows = [(p * 100 / total, d, s) for p, d, s in rows]
print("| where | share of samples |")
print("|---|---|")
for kind, pct in sorted(groups.items(), key=lambda kv: -kv[1])[:8]:
    print(f"| {kind} | {pct:.1f}% |")
print()
print("Top symbols:")
print()
print("| share | object | symbol |")
print("|---|---|---|")
for pct, dso, sym in rows[:25]:
    print(f"| {pct:.2f}% | {dso} | `{sym[:90]}` |")
PY
} >"$WORK/table.md"
if [[ -n "$OUT" ]]; then cp "$WORK/table.md" "$OUT"; fi
cat "$WORK/table.md"
