#!/usr/bin/env python3
"""What each routing decision saw, rebuilt from a run's stored requests (docs/routing.md, "Findings").

For every request, at the moment it was routed: the chosen replica's prefill backlog (uncached prompt tokens of
requests routed there earlier whose first token had not come) and its waiting requests (routed there, not yet
started), against the lightest replica's. Prints one line per run.

    python3 scripts/prefill-backlog-at-routing.py results.sqlite [RUN_ID ...]
"""
import bisect
import sqlite3
import sys


def analyse(db, run_id):
    rows = db.execute(
        "select replica, routed_ns, start_ns, first_token_ns, input_tokens, cached_tokens, request_id from request "
        "where run_id = ? and routed_ns is not null and replica is not null order by routed_ns, request_id",
        (run_id,)).fetchall()
    replicas = sorted({r[0] for r in rows})
    # Per replica: (routed, first token or infinity, uncached tokens, started or infinity), in routing order.
    events = {r: [] for r in replicas}
    for replica, routed, start, first, tokens, cached, request in rows:
        inf = float("inf")
        events[replica].append(((routed, request), first if first is not None else inf, tokens - (cached or 0),
                                start if start is not None else inf))

    # A decision at (time, request) sees every request routed before it, those of the same instant included
    # (trace timestamps put several requests at one nanosecond; the router takes them in request order).
    def state(replica, decision):
        t = decision[0]
        backlog = waiting = 0
        for routed, first, uncached, start in events[replica]:
            if routed >= decision:
                break
            if first > t:
                backlog += uncached
            if start > t:
                waiting += 1
        return backlog, waiting

    extra_backlog = extra_waiting = heavier = 0
    n = 0
    # Every 7th decision keeps this quadratic scan to seconds; the stride is fixed, so reruns agree.
    for replica, routed, start, first, tokens, cached, request in rows[::7]:
        states = {r: state(r, (routed, request)) for r in replicas}
        chosen = states[replica]
        extra_backlog += chosen[0] - min(s[0] for s in states.values())
        extra_waiting += chosen[1] - min(s[1] for s in states.values())
        heavier += chosen[0] > min(s[0] for s in states.values())
        n += 1
    policy = db.execute("select policy from run where id = ?", (run_id,)).fetchone()[0]
    print(f"run {run_id} {policy:28s} decisions {n:5d}  chosen replica's prefill backlog above the lightest: "
          f"mean {extra_backlog / n:8.0f} tokens  ({100 * heavier / n:4.1f}% of decisions)  "
          f"waiting requests above the lightest: mean {extra_waiting / n:.2f}")


def main():
    db = sqlite3.connect(sys.argv[1])
    runs = [int(a) for a in sys.argv[2:]] or [r[0] for r in db.execute("select id from run order by id")]
    for run_id in runs:
        analyse(db, run_id)


if __name__ == "__main__":
    main()
