"""Benchmark: how many renewals an hour one core serves with pages under 300 ms, and what
happens at twice that (gunicorn + PostgreSQL, production settings).

    .venv/bin/python bench/bench_capacity.py [--duration 30] [--think 1.0] [--start 0.05]
        [--step 1.4] [--workers N] [--db postgres://postgres@127.0.0.1:5432/keizoku_i11_capacity]

Sets up PostgreSQL, Redis (when it answers) and gunicorn exactly as ``bench_journey.py`` does,
then in the same run:

1. the floor of one renewal (its requests × the server CPU of one ``/livez`` + one Argon2
   verification) and its own limit, 3600 s ÷ floor per journey: renewals an hour one core could
   serve if every page cost what ``/livez`` costs;
2. customers arriving at random (Poisson, open loop: arrivals do not wait for the server) at a
   rate rising by ``--step`` from ``--start`` × that limit, each doing the whole journey of
   ``bench_journey.py`` and reading each page ``--think`` seconds on average. Each rate lasts
   ``--duration`` seconds of arrivals; its p50/p95 page times are printed. The capacity is the
   highest rate whose page p95 stays under 300 ms with nothing turned away, in renewals an hour
   per core (goal ≥ 50 % of the floor's limit);
3. twice that rate: pages served keep p95 < 1 s, every other answer is 「ただいま混雑しています」
   (503 with Retry-After, reloaded by the customer after it), and nothing else fails (goal 0).

Clients run in separate processes, one thread per customer, on the same machine (they take CPU
from the server too: the figures are a lower bound; ``nproc`` and the load average are printed).
"""

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time

import machine
from bench_journey import (
    ROOT,
    argon2_cpu,
    constant,
    journey,
    redis_env,
    run_clients,
    served,
    server_cpu,
    server_description,
)

P95_GOAL = 0.300  # seconds, at capacity
OVERLOAD_P95_GOAL = 1.0  # seconds, at twice capacity
CAPACITY_GOAL = 0.5  # of the floor's own limit


def customers_in_process(args: tuple) -> tuple[list, list, list]:
    """Run this process's share of the customers, each in a thread from its arrival time."""
    port, think, arrivals = args  # arrivals: [(seconds from start, email, contract id)]
    started = time.monotonic()
    results: list = []
    lock = threading.Lock()

    def customer(at: float, email: str, contract_id: int) -> None:
        time.sleep(max(0.0, started + at - time.monotonic()))
        outcome = journey((port, email, contract_id, think, False))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=customer, args=arrival) for arrival in arrivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = [t for result in results for t in result[0]]
    errors = [e for result in results for e in result[1]]
    busy = [b for result in results for b in result[2]]
    return times, errors, busy


def run_rate(port: int, users: list, rate: float, duration: float, think: float, processes: int):
    """Customers arriving at ``rate`` per second for ``duration`` seconds (Poisson)."""
    arrivals, at = [], random.expovariate(rate)
    while at < duration and users:
        email, contract_id = users.pop()
        arrivals.append((at, email, contract_id))
        at += random.expovariate(rate)
    shares = [(port, think, arrivals[index::processes]) for index in range(processes)]
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(customers_in_process, shares)
    times = [seconds for result in results for _label, seconds in result[0]]
    errors = [e for result in results for e in result[1]]
    busy = [b for result in results for b in result[2]]
    return len(arrivals), times, errors, busy


def quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of arrivals per rate")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds on each page")
    parser.add_argument("--start", type=float, default=0.05, help="first rate, × the floor's limit")
    parser.add_argument("--step", type=float, default=1.4, help="each rate × this")
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/keizoku_i11_capacity")
    options = parser.parse_args()
    cores = os.cpu_count() or 1

    # Enough members for every rate: each renews once.
    limit_guess = 3600 / 0.25 * cores / 3600  # journeys per second if the floor were 0.25 s
    needed = sum(
        options.start * options.step**i * limit_guess * options.duration * 1.3
        for i in range(options.max_steps)
    )
    needed = int(needed * 2.5) + 200  # and the overload run
    gunicorn_args = ["-c", str(ROOT / "config" / "gunicorn.py"), "--workers", str(options.workers)]
    print(f"machine: {machine.describe()}")
    print(f"setting up {needed} members…", flush=True)
    with served(options.db, needed, gunicorn_args, redis_env(options.redis)) as (
        port,
        pid,
        users,
        env,
    ):
        print(f"server: {server_description(options.workers, env)}")
        run_clients(constant, [(port, 20)] * options.workers * 2, options.workers * 2)
        users = list(reversed(users))
        # 1. The floor, in this run.
        argon2, argon2_params = argon2_cpu(env)
        cpu_before = server_cpu(pid)
        _elapsed, livez_times, _errors, _busy = run_clients(
            constant, [(port, 200)] * options.processes, options.processes
        )
        livez_cpu = (server_cpu(pid) - cpu_before) / len(livez_times)
        probed, probe_times, probe_errors, _busy = run_rate(port, users, 0.5, 4, 0.0, 1)
        if probe_errors or not probed:
            print(f"the journey fails: {probe_errors[:3]}")
            return 1
        requests = len(probe_times) / probed
        floor = requests * livez_cpu + argon2
        limit = 3600 / floor  # renewals an hour one core could do at the floor
        print(
            f"floor: {requests:.0f} requests × {livez_cpu * 1000:.2f} ms (/livez) + "
            f"{argon2 * 1000:.0f} ms ({argon2_params}) = {floor * 1000:.0f} ms of CPU per "
            f"renewal → its limit {limit:,.0f} renewals an hour per core"
        )
        print(
            f"customers arrive at random (Poisson) for {options.duration:g} s per rate, read each "
            f"page {options.think:g} s on average; goal: page p95 < {P95_GOAL * 1000:.0f} ms, "
            "nothing turned away"
        )
        best = None
        rate = options.start * limit * cores / 3600
        for _step in range(options.max_steps):
            if len(users) < rate * options.duration * 1.5:
                print("  (out of members: stopping)")
                break
            load = os.getloadavg()[0]
            count, times, errors, busy = run_rate(
                port, users, rate, options.duration, options.think, options.processes
            )
            p50, p95 = quantile(times, 50), quantile(times, 95)
            per_core_hour = rate * 3600 / cores
            ok = p95 < P95_GOAL and not busy and not errors
            print(
                f"  {per_core_hour:8,.0f} renewals/h/core ({rate:.2f}/s, {count} customers): "
                f"pages p50 {p50 * 1000:4.0f} ms p95 {p95 * 1000:5.0f} ms, busy {len(busy)}, "
                f"errors {len(errors)}, load {load:.1f} {'ok' if ok else '✗'}",
                flush=True,
            )
            if not ok:
                break
            best = rate
            rate *= options.step
        if best is None:
            print("capacity: not reached even at the first rate")
            return 1
        capacity = best * 3600 / cores
        share = capacity / limit
        print(
            f"capacity: {capacity:,.0f} renewals an hour per core with page p95 < 300 ms = "
            f"{share:.0%} of the floor's limit {limit:,.0f} (goal ≥ {CAPACITY_GOAL:.0%})"
        )
        # 3. Twice the capacity.
        load = os.getloadavg()[0]
        count, times, errors, busy = run_rate(
            port, users, best * 2, options.duration, options.think, options.processes
        )
        p95 = quantile(times, 95)
        busy_p95 = quantile([seconds for _label, seconds in busy], 95) if busy else 0.0
        answers = len(times) + len(busy)
        print(
            f"at 2× capacity ({best * 2 * 3600 / cores:,.0f} renewals/h/core, {count} customers, "
            f"load {load:.1f}): {len(times)} pages served, p95 {p95 * 1000:.0f} ms "
            f"(goal < {OVERLOAD_P95_GOAL * 1000:.0f} ms); {len(busy)} of {answers} answers "
            f"「ただいま混雑しています」 (p95 {busy_p95 * 1000:.0f} ms to get it), reloaded; "
            f"other errors {len(errors)} (goal 0)" + (f" e.g. {errors[:3]}" if errors else "")
        )
    met = share >= CAPACITY_GOAL and p95 < OVERLOAD_P95_GOAL and not errors
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
