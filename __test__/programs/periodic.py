# A loop over three functions with a fixed period, for testing that sampling does not alias.
#
#   periodic.py PERIOD_MS SPLIT MODE [THREADS]
#
# SPLIT is the share of each period spent in alpha, beta and gamma ("0.6,0.3,0.1").
# MODE: "free"  - each function busy-spins for its part of the period, one after the other
#                 (the period drifts with the loop's own overhead);
#       "clock" - the same, but each part ends at a fixed point of a period counted on the
#                 monotonic clock (an event-loop tick, a pacing loop); a period that is
#                 missed is skipped, so the loop stays on the clock's grid;
#       "sleep" - like "clock", but each function sleeps until its part ends (no CPU; for
#                 --threads recordings). THREADS threads run it, each shifted by
#                 PERIOD / THREADS so they are at different phases.
#
# The program measures its own truth: wall time (perf_counter) inside each function. SIGUSR1
# resets the totals; SIGUSR2 prints one JSON line {"alpha": s, "beta": s, "gamma": s,
# "total": s} with the time since the reset (all threads together) and keeps running.
import json
import signal
import sys
import threading
import time

now = time.perf_counter
# Shared by the worker threads (sleep mode) and the signal handlers, which run on the main thread.
lock = threading.RLock()
totals = {"alpha": 0.0, "beta": 0.0, "gamma": 0.0}
# The call each thread is in: (name, start). A signal is handled only when the process runs
# again, possibly after a long time off the CPU in the middle of a call: the truth counts a
# call's time from the reset on, and the report counts the calls still running.
inflight = {}
since = [now()]
threads_running = [1]


def reset(*_):
    with lock:
        for key in totals:
            totals[key] = 0.0
        since[0] = now()


def report(*_):
    with lock:
        t = now()
        out = dict(totals)
        for name, t0 in list(inflight.values()):
            out[name] += t - max(t0, since[0])
        out["total"] = (t - since[0]) * threads_running[0]
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def spin_until(end):
    while now() < end:
        pass


def sleep_until(end):
    left = end - now()
    while left > 0:
        time.sleep(left)
        left = end - now()


# Threads inside add(): a signal handler that interrupts its own thread there (between the
# totals' update and the in-flight entry's removal) would count the finished call twice, so
# it is deferred to the end of add() instead.
busy = set()
deferred = []


def on_signal(action):
    def handler(*_):
        if threading.get_ident() in busy:
            deferred.append(action)
        else:
            action()
    return handler


def add(name, t0, t1):
    me = threading.get_ident()
    busy.add(me)
    with lock:
        totals[name] += t1 - max(t0, since[0])
        inflight.pop(me, None)
    busy.discard(me)
    while deferred:
        deferred.pop(0)()


# The three functions look the same: each waits until its part of the period ends. The
# caller times the whole call, so the truth covers exactly the time the frame is on the stack.
def alpha(end, wait):
    wait(end)


def beta(end, wait):
    wait(end)


def gamma(end, wait):
    wait(end)


def timed(fn, end, wait):
    t0 = now()
    inflight[threading.current_thread().ident] = (fn.__name__, t0)
    fn(end, wait)
    add(fn.__name__, t0, now())


def free_running(period, split):
    parts = [period * s for s in split]
    while True:
        timed(alpha, now() + parts[0], spin_until)
        timed(beta, now() + parts[1], spin_until)
        timed(gamma, now() + parts[2], spin_until)


def clock_locked(period, split, wait, offset):
    a = period * split[0]
    b = a + period * split[1]
    origin = time.monotonic() + offset
    # perf_counter and monotonic are the same clock on Linux; the grid is kept in perf_counter.
    start = now() + (origin - time.monotonic())
    while True:
        timed(alpha, start + a, wait)
        timed(beta, start + b, wait)
        timed(gamma, start + period, wait)
        start += period
        late = now() - start
        if late > 0:
            start += period * (int(late / period) + 1)


def main():
    period = float(sys.argv[1]) / 1000.0
    split = [float(x) for x in sys.argv[2].split(",")]
    mode = sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    signal.signal(signal.SIGUSR1, on_signal(reset))
    signal.signal(signal.SIGUSR2, on_signal(report))
    if mode == "sleep":
        # Signals must reach the main thread: a handler that runs on another thread only sets a
        # flag, and the main thread, asleep, would see it much later (with --blocking the kernel
        # picks another thread whenever the main one is stopped for a sample).
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGUSR2])
        threads_running[0] = count
        for i in range(count):
            worker = threading.Thread(target=clock_locked, args=(period, split, sleep_until, period * i / count), name="tick-%d" % i)
            worker.daemon = True
            worker.start()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR1, signal.SIGUSR2])
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if mode == "free":
        free_running(period, split)
    else:
        clock_locked(period, split, spin_until, 0.0)


if __name__ == "__main__":
    main()
