"""Benchmark target: a fixed CPU-bound workload whose wall time measures the profiler's slowdown.

usage: workload.py ITERATIONS
Prints "ready", waits for a line on stdin (so the profiler can attach first), runs the work, and
prints one JSON line {"wall": s, "cpu": s}.
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


print("ready", flush=True)
sys.stdin.readline()
wall0, cpu0 = time.perf_counter(), time.process_time()
work()
print(json.dumps({"wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0}), flush=True)
