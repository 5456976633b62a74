"""Benchmark target: a busy loop at the bottom of a stack of exactly DEPTH Python frames.

usage: deep_busy.py DEPTH [THREADS]
THREADS > 0 runs that many busy threads (each DEPTH frames deep) while the main thread waits.
Prints "ready" once every stack has reached its depth, then spins until killed.
"""
import sys
import threading

DEPTH = int(sys.argv[1])
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 0
started = threading.Semaphore(0)


def spin():
    # Frame at the bottom: the sampled stack is <module>/run + descend * k + spin.
    started.release()
    x = 0
    while True:
        x += 1


def descend(remaining):
    if remaining > 0:
        descend(remaining - 1)
    else:
        spin()


if THREADS == 0:
    if DEPTH == 1:
        print("ready", flush=True)
        x = 0
        while True:
            x += 1
    threading.Thread(target=lambda: (started.acquire(), print("ready", flush=True)), daemon=True).start()
    if DEPTH == 2:
        spin()
    # <module> + descend * (k + 1) + spin = DEPTH frames
    descend(DEPTH - 3)
else:
    for _ in range(THREADS):
        # Each thread's Python stack: threading's 3 bootstrap frames + descend * (k + 1) + spin.
        threading.Thread(target=descend, args=(max(0, DEPTH - 5),), daemon=True).start()
    for _ in range(THREADS):
        started.acquire()
    print("ready", flush=True)
    threading.Event().wait()
