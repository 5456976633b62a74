"""Benchmark target: three functions whose true CPU shares the program measures itself.

Each call of alpha/beta/gamma is timed with time.process_time(); SIGUSR1 resets the totals
(when the profiler starts), SIGUSR2 prints {"alpha": s, "beta": s, "gamma": s} and exits.
usage: accuracy.py [DEPTH]   DEPTH (default 1) runs the loop under that many Python frames
(<module> + descend * (DEPTH - 2) + loop), so a sampler reads a deep stack at every sample.
Call lengths differ and are not multiples of 1 ms or 10 ms, so fixed-interval samplers do not
lock onto the loop's period.
"""
import json
import os
import signal
import sys
import time

totals = {"alpha": 0.0, "beta": 0.0, "gamma": 0.0}


def reset(*_):
    for k in totals:
        totals[k] = 0.0


def report(*_):
    sys.stdout.write(json.dumps(totals) + "\n")
    sys.stdout.flush()
    os._exit(0)


signal.signal(signal.SIGUSR1, reset)
signal.signal(signal.SIGUSR2, report)


def alpha(n):
    # pure bytecode arithmetic
    x = 0
    for i in range(n):
        x += i % 3
    return x


def beta_inner(depth, n):
    if depth:
        return beta_inner(depth - 1, n)
    s = 0
    for i in range(n):
        s ^= i
    return s


def beta(n):
    # deeper stack under beta
    return beta_inner(6, n)


def gamma(n):
    # time mostly in C builtins called from gamma
    data = list(range(n, 0, -1))
    data.sort()
    result = sum(data) + len(str(data[:50]))
    # Free the list here: locals are freed after the frame is popped, where samplers would
    # see the caller while the program's own clock still counts gamma.
    del data
    return result


def timed(fn, n):
    t0 = time.process_time()
    fn(n)
    totals[fn.__name__] += time.process_time() - t0


def loop():
    print("ready", flush=True)
    plan = [(alpha, 37000), (beta, 23000), (alpha, 11000), (gamma, 41000), (beta, 9000)]
    while True:
        for fn, n in plan:
            timed(fn, n)


def descend(remaining):
    if remaining > 0:
        descend(remaining - 1)
    else:
        loop()


DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 1
if DEPTH <= 2:
    loop()
else:
    descend(DEPTH - 3)
