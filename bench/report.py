#!/usr/bin/env python3
"""Markdown table (median and range per tool) from the raw runs of http-throughput.sh.

Input lines: round tool requests seconds cpu_s rss_kib errors user_s sys_s (tab separated).
"""
import statistics
import sys
from collections import defaultdict

from report_json import rows


def main():
    runs = defaultdict(list)
    for rnd, tool, requests, seconds, cpu, rss, errors, user, system in rows(sys.argv[1]):
        requests, seconds, cpu = int(requests), float(seconds), float(cpu)
        runs[tool].append({
            "rps": requests / seconds,
            "per_cpu": requests / cpu if cpu > 0 else float("nan"),
            "us_per_req": cpu / requests * 1e6 if requests else float("nan"),
            "user_us": float(user) / requests * 1e6 if requests else float("nan"),
            "sys_us": float(system) / requests * 1e6 if requests else float("nan"),
            "rss": int(rss) / 1024,
            "errors": int(errors),
        })

    def cell(tool, key, fmt):
        values = [r[key] for r in runs[tool]]
        med = statistics.median(values)
        return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"

    med = lambda t, k: statistics.median(r[k] for r in runs[t])
    print("| tool | runs | requests/s | requests per CPU-second | CPU µs per request | of which user / system µs | peak RSS MiB | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for tool in runs:
        errors = sum(r["errors"] for r in runs[tool])
        print(f"| {tool} | {len(runs[tool])} | {cell(tool, 'rps', '{:.0f}')} | "
              f"{cell(tool, 'per_cpu', '{:.0f}')} | {cell(tool, 'us_per_req', '{:.1f}')} | "
              f"{med(tool, 'user_us'):.1f} / {med(tool, 'sys_us'):.1f} | "
              f"{cell(tool, 'rss', '{:.1f}')} | {errors} |")
    print()
    print("Median (min–max) over the rounds. CPU is user+system of the generator's own process "
          "(all threads, children excluded) read from /proc after it exits (bench/measure.py).")
    # Anchors are the other tools; a second gonogo build ("gonogo-base") is not one.
    anchors = [t for t in runs if not t.startswith("gonogo")]
    if "gonogo" in runs and anchors:
        med = lambda t, k: statistics.median(r[k] for r in runs[t])
        best_cpu = max(anchors, key=lambda t: med(t, "per_cpu"))
        best_rps = max(anchors, key=lambda t: med(t, "rps"))
        print()
        print(f"- gonogo requests per CPU-second ÷ best anchor ({best_cpu}): "
              f"**{med('gonogo', 'per_cpu') / med(best_cpu, 'per_cpu'):.2f}×** (target ≥ 1.2×, never below 1.0×)")
        print(f"- gonogo requests/s ÷ best anchor ({best_rps}): "
              f"**{med('gonogo', 'rps') / med(best_rps, 'rps'):.2f}×** (target ≥ 0.95×)")
        # Per-round ratios show whether the medians hide a spread.
        rounds = defaultdict(dict)
        for rnd, tool, requests, seconds, cpu, *_ in rows(sys.argv[1]):
            rounds[rnd][tool] = (int(requests) / float(seconds), int(requests) / float(cpu))
        ratios = []
        for rnd, tools in sorted(rounds.items()):
            if "gonogo" in tools and any(t in tools for t in anchors):
                best = max(tools[t][1] for t in anchors if t in tools)
                ratios.append(tools["gonogo"][1] / best)
        if ratios:
            print(f"- per round, requests per CPU-second ÷ that round's best anchor: "
                  + ", ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
