"""Benchmark target: a fixed CPU-bound workload whose wall time measures the profiler's slowdown.

usage: workload.py ITERATIONS
Prints "ready", waits for a line on stdin (so the profiler can attach first), runs the work, and
prints one JSON line {"wall": s, "cpu": s, "runqueue_wait": s}. runqueue_wait (from
/proc/self/schedstat) is the time the target was runnable but waiting for a CPU: on a shared
machine, wall - runqueue_wait removes other jobs' noise but keeps the time a blocking profiler
kept the target stopped (a stopped task is not runnable).
"""
import json
import sys
import time

ITERATIONS = int(sys.argv[1])


def leaf(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def middle(depth, n):
    # A modest stack (about 12 frames) so each sample walks real frames.
    if depth:
        return middle(depth - 1, n)
    return leaf(n)


def work():
    acc = 0
    for i in range(ITERATIONS):
        acc += middle(10, 200)
    return acc


def runqueue_wait():
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except OSError:
        return float("nan")


print("ready", flush=True)
sys.stdin.readline()
wall0, cpu0, wait0 = time.perf_counter(), time.process_time(), runqueue_wait()
work()
wall, cpu, wait = time.perf_counter() - wall0, time.process_time() - cpu0, runqueue_wait() - wait0
print(json.dumps({"wall": wall, "cpu": cpu, "runqueue_wait": wait}), flush=True)
