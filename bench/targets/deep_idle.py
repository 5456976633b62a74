"""Benchmark target: a thread asleep at the bottom of a stack of exactly DEPTH Python frames.

usage: deep_idle.py DEPTH
Prints "ready" once the stack has its depth. Costs no CPU while a one-shot tool (dump) reads it,
so on a shared machine the target does not slow the tools measured.
"""
import sys
import time

DEPTH = int(sys.argv[1])


def rest():
    print("ready", flush=True)
    while True:
        time.sleep(1)


def descend(remaining):
    if remaining > 0:
        descend(remaining - 1)
    else:
        rest()


descend(DEPTH - 3)
