#!/usr/bin/env python3
"""SimPy side of the M/M/c kernel benchmark.

Model: 8 identical servers, Poisson arrivals at rate 7.2 per second, exponential
service at rate 1 per server (offered load 0.9), first come first served, empty at
time 0.  Exactly N customers arrive; the run ends when the last one leaves.

Only ``env.run()`` is timed.  Output is one ``key=value`` per line so that scripts
can compare it with ``infermesh-bench``.

usage: python3 Benchmarks/simpy/mmc.py --customers N [--seed S]
"""

import argparse
import math
import random
import sys
import time

import simpy

SERVERS = 8
LAMBDA = 7.2       # arrivals per second
MU = 1.0           # services per second, per server
BATCHES = 20       # batch means for the confidence interval
T_QUANTILE = 2.093  # Student t, 0.975 quantile, BATCHES - 1 = 19 degrees of freedom


def erlang_c_mean_wait(servers, lam, mu):
    """Mean time in queue of M/M/c, from Erlang B's stable recursion B(k) = a B(k-1) / (k + a B(k-1))."""
    offered = lam / mu
    utilization = offered / servers
    if utilization >= 1:
        raise ValueError("unstable queue: load must be below 1")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    p_wait = blocking / (1 - utilization * (1 - blocking))
    return p_wait / (servers * mu - lam)


def simulate(customers, seed):
    """Runs the model; returns (waits in arrival order, events processed, wall seconds)."""
    env = simpy.Environment()
    pool = simpy.Resource(env, capacity=SERVERS)
    # One generator per source of randomness, so that arrivals do not depend on services.
    # String seeds are hashed with SHA-512 by `random`, the same in every process.
    arrival_rng = random.Random(f"mmc/{seed}/arrivals")
    service_rng = random.Random(f"mmc/{seed}/services")
    waits = [0.0] * customers

    def customer(number):
        arrived = env.now
        with pool.request() as turn:
            yield turn
            waits[number] = env.now - arrived
            yield env.timeout(service_rng.expovariate(MU))

    def arrivals():
        for number in range(customers):
            yield env.timeout(arrival_rng.expovariate(LAMBDA))
            env.process(customer(number))

    env.process(arrivals())

    started = time.perf_counter()
    env.run()  # no `until`: returns when the event queue is empty
    wall = time.perf_counter() - started

    if env.peek() != math.inf:
        raise RuntimeError("events left after run()")
    # SimPy 4 gives every scheduled event an id from the counter `env._eid` (there is no public count).
    # The queue is empty, so every scheduled event was processed: the counter's next value is the count.
    eid = getattr(env, "_eid", None)
    events = next(eid) if eid is not None else -1
    return waits, events, wall


def batch_means_interval(values, batches, t_quantile):
    """95% batch-means interval for the mean of `values`: contiguous equal batches (any remainder at the
    end is left out), centred on the mean of the batch means, half-width t * sd(batch means) / sqrt(batches)."""
    size = len(values) // batches
    if size < 1:
        raise ValueError(f"need at least {batches} values")
    means = [math.fsum(values[i * size:(i + 1) * size]) / size for i in range(batches)]
    centre = math.fsum(means) / batches
    sd = math.sqrt(math.fsum((m - centre) ** 2 for m in means) / (batches - 1))
    half = t_quantile * sd / math.sqrt(batches)
    return centre - half, centre + half


def main(argv=None):
    parser = argparse.ArgumentParser(description="M/M/8 at load 0.9 in SimPy (benchmark counterpart).")
    parser.add_argument("--customers", type=int, required=True, help="customers to simulate (N)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)
    if args.customers < BATCHES:
        parser.error(f"--customers must be at least {BATCHES}")

    waits, events, wall = simulate(args.customers, args.seed)
    mean_wait = math.fsum(waits) / len(waits)
    theory = erlang_c_mean_wait(SERVERS, LAMBDA, MU)
    low, high = batch_means_interval(waits, BATCHES, T_QUANTILE)

    report = [
        ("engine", "simpy"),
        ("simpy_version", simpy.__version__),
        ("customers", args.customers),
        ("servers", SERVERS),
        ("lambda", LAMBDA),
        ("mu", MU),
        ("seed", args.seed),
        ("mean_wait", f"{mean_wait:.6f}"),
        ("erlang_c_mean_wait", f"{theory:.6f}"),
        ("mean_wait_ci_low", f"{low:.6f}"),
        ("mean_wait_ci_high", f"{high:.6f}"),
        ("erlang_c_in_ci", "true" if low <= theory <= high else "false"),
        ("events", events),
        ("wall_seconds", f"{wall:.3f}"),
        ("customers_per_second", f"{args.customers / wall:.0f}"),
        ("events_per_second", f"{events / wall:.0f}" if events >= 0 else "unknown"),
    ]
    sys.stdout.write("".join(f"{key}={value}\n" for key, value in report))


if __name__ == "__main__":
    main()
