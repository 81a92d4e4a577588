#!/usr/bin/env python3
"""The tables of docs/routing.md, "The published comparison is in another regime", from a database written by
`infermesh sweep scenarios/sweeps/gie-load-sweep.yaml`.

    python3 scripts/gie-sweep-tables.py results/gie-sweep.sqlite [--svg docs/figures/gie-load-sweep.svg]

Each cell is the mean over the sweep's seeds. Summary metrics come from the `summary` table; NTPOT (what the
inference extension's benchmark tool plots as "per output token latency": arrival to last token divided by the
output tokens, so it includes the wait and the prefill) is computed here from the `request` table, over the
completed requests that arrived in [warm-up, horizon), at the nearest rank as `infermesh` computes its
percentiles. Standard library only, except `--svg`, which draws the ratios to random with matplotlib
(the notebook's .venv has it).
"""

import math
import re
import sqlite3
import sys
from collections import OrderedDict

POLICIES = ["round-robin", "random", "least-connections", "inference-aware", "inference-aware-active"]
SHORT = {
    "round-robin": "round-robin",
    "random": "random",
    "least-connections": "least-conn.",
    "inference-aware": "inference-aware",
    "inference-aware-active": "i.-a. + active",
}


def nearest_rank(values, q):
    values.sort()
    return values[max(0, math.ceil(q * len(values)) - 1)] if values else float("nan")


def main(path, plot=None):
    db = sqlite3.connect(path)
    # (refresh, rate) -> policy -> [run ids]
    points = OrderedDict()
    rows = db.execute(
        "SELECT id, policy, scenario_text FROM run WHERE status = 'complete' AND scenario_name = 'gie-benchmark'"
        " ORDER BY id"
    )
    for run_id, policy, text in rows:
        rate = float(re.search(r"^\s+rate: ([0-9.]+)/s$", text, re.M).group(1))
        refresh = re.search(r"^\s+refresh-interval: (\S+)$", text, re.M).group(1)
        points.setdefault((refresh, rate), {}).setdefault(policy, []).append(run_id)

    def summary(run_id, metric):
        row = db.execute("SELECT value FROM summary WHERE run_id = ? AND metric = ?", (run_id, metric)).fetchone()
        return row[0] if row and row[0] is not None else float("nan")

    def ntpot_p90(run_id):
        warmup, horizon = db.execute("SELECT warmup_ns, horizon_ns FROM run WHERE id = ?", (run_id,)).fetchone()
        values = [
            (end - arrival) / 1e6 / tokens
            for arrival, end, tokens in db.execute(
                "SELECT arrival_ns, end_ns, output_tokens FROM request WHERE run_id = ? AND status = 'completed'"
                " AND arrival_ns >= ? AND arrival_ns < ? AND output_tokens > 0",
                (run_id, warmup, horizon),
            )
        ]
        return nearest_rank(values, 0.9)

    metrics = OrderedDict(
        [
            ("TTFT p90 (ms)", lambda r: summary(r, "ttft_ms_p90")),
            ("TPOT p90 (ms)", lambda r: summary(r, "tpot_ms_p90")),
            ("NTPOT p90 (ms per output token)", ntpot_p90),
            ("E2E p90 (ms)", lambda r: summary(r, "e2e_ms_p90")),
            ("throughput (req/s)", lambda r: summary(r, "throughput_rps")),
        ]
    )
    refreshes = list(OrderedDict.fromkeys(refresh for refresh, _ in points))
    rates = sorted({rate for _, rate in points})
    # Policies that read no scraped metrics are the same at every refresh interval: one column each.
    columns = [(policy, refreshes[0], SHORT[policy]) for policy in POLICIES[:3]] + [
        (policy, refresh, f"{SHORT[policy]} {refresh}") for policy in POLICIES[3:] for refresh in refreshes
    ]
    ratio_curves = OrderedDict()
    for name, metric in metrics.items():
        ratios = "throughput" not in name
        print(f"\n{name}, mean over seeds" + (" (in parentheses: / random)" if ratios else "") + "\n")
        print("| req/s | " + " | ".join(label for _, _, label in columns) + " |")
        print("| ---: |" + " ---: |" * len(columns))
        for rate in rates:
            means = []
            for policy, refresh, _ in columns:
                values = [metric(r) for r in points.get((refresh, rate), {}).get(policy, [])]
                means.append(sum(values) / len(values) if values else float("nan"))
            base = means[POLICIES.index("random")]
            for (policy, refresh, label), m in zip(columns, means):
                ratio_curves.setdefault(name, OrderedDict()).setdefault(label, []).append((rate, m / base))
            cells = [
                f"{m:,.1f}" if policy == "random" or not ratios else f"{m:,.1f} ({m / base:.2f})"
                for (policy, _, _), m in zip(columns, means)
            ]
            print(f"| {rate:g} | " + " | ".join(cells) + " |")

    if plot:
        draw(ratio_curves, plot)

    # The mechanism, per replica, for the first seed's runs at the loads the findings discuss.
    print("\nMechanism (first seed): same = share of consecutive requests routed to the same replica;")
    print("waiting = replicas' waiting requests at the 1 s samples after warm-up (mean of the fleet's sum, and the")
    print("largest on one replica); running spread = mean over samples of (most - fewest running);")
    print("KV = the replicas' mean KV use, lowest and highest replica\n")
    print("| req/s | refresh | policy | same | waiting mean / max | running spread | KV lowest-highest |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for rate in (200.0, 230.0):
        for refresh in refreshes:
            for policy in POLICIES:
                runs = points.get((refresh, rate), {}).get(policy, [])
                if not runs or (refresh != refreshes[0] and policy in ("round-robin", "random", "least-connections")):
                    continue
                run_id = runs[0]
                warmup = db.execute("SELECT warmup_ns FROM run WHERE id = ?", (run_id,)).fetchone()[0]
                replicas = [
                    r
                    for (r,) in db.execute(
                        "SELECT replica FROM request WHERE run_id = ? AND replica IS NOT NULL"
                        " ORDER BY routed_ns, request_id",
                        (run_id,),
                    )
                ]
                same = sum(a == b for a, b in zip(replicas, replicas[1:])) / max(1, len(replicas) - 1)
                by_time = OrderedDict()
                for time, replica, waiting, running, kv in db.execute(
                    "SELECT time_ns, replica, num_requests_waiting, num_requests_running, kv_cache_usage_perc"
                    " FROM sample WHERE run_id = ? AND time_ns >= ? ORDER BY time_ns, replica",
                    (run_id, warmup),
                ):
                    by_time.setdefault(time, []).append((waiting, running, kv))
                samples = list(by_time.values())
                waiting_mean = sum(sum(w for w, _, _ in s) for s in samples) / len(samples)
                waiting_max = max(max(w for w, _, _ in s) for s in samples)
                spread = sum(max(r for _, r, _ in s) - min(r for _, r, _ in s) for s in samples) / len(samples)
                kv = [sum(s[i][2] for s in samples) / len(samples) for i in range(len(samples[0]))]
                label = refresh if policy not in ("round-robin", "random", "least-connections") else "-"
                print(
                    f"| {rate:g} | {label} | {policy} | {same:.3f} | {waiting_mean:.1f} / {waiting_max} |"
                    f" {spread:.1f} | {min(kv):.2f}-{max(kv):.2f} |"
                )


def draw(curves, path):
    """TTFT, TPOT and NTPOT p90 against random's, by offered load: one SVG (needs matplotlib)."""
    import matplotlib

    matplotlib.use("svg")
    matplotlib.rcParams["svg.hashsalt"] = "gie-load-sweep"
    import matplotlib.pyplot as plt

    panels = ["TTFT p90 (ms)", "TPOT p90 (ms)", "NTPOT p90 (ms per output token)"]
    colors = {"round-robin": "tab:blue", "random": "tab:orange", "least-conn.": "tab:green"}
    styles = {"0ms": "-", "50ms": "--", "200ms": ":"}
    figure, axes = plt.subplots(1, len(panels), figsize=(15, 4.8))
    for axis, name in zip(axes, panels):
        for label, points in curves[name].items():
            policy, _, refresh = label.rpartition(" ")
            if label in colors:
                color, style = colors[label], "-"
            else:
                color = "tab:red" if policy == "inference-aware" else "tab:purple"
                style = styles.get(refresh, "-")
            axis.plot([r for r, _ in points], [v for _, v in points], style, color=color, marker=".", label=label)
        axis.axhline(1, color="gray", linewidth=0.8)
        axis.set_xlabel("offered load (req/s); the fleet completes at most 232")
        axis.set_title(name.split(" (")[0] + " / random's")
        axis.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    figure.suptitle("gie-benchmark load sweep: mean over 3 seeds; inference-aware in red, + active in purple")
    figure.tight_layout()
    figure.savefig(path, metadata={"Date": None})


if __name__ == "__main__":
    arguments = sys.argv[1:]
    plot = None
    if len(arguments) == 3 and arguments[1] == "--svg":
        plot = arguments[2]
    elif len(arguments) != 1:
        sys.exit("usage: gie-sweep-tables.py DATABASE [--svg FILE]")
    main(arguments[0], plot)
