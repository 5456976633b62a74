# Sleeps in wait_for_work() (select with a timeout, no GIL held, off the CPU) and burns CPU
# in burst() in turn, like a worker serving a request now and then. Writes the share of wall
# time spent in burst() so far to the file named by its argument (the truth a test compares
# the sampled running share with). Optional arguments: the burst and the wait in seconds
# (default 0.01 and 0.03), and "held" to make each burst a sleep that keeps the GIL (a C call
# through ctypes.PyDLL, which does not release it: the thread is off the CPU but counts as
# running, as in Pyflame).
import select
import sys
import time


BURST = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
WAIT = float(sys.argv[3]) if len(sys.argv) > 3 else 0.03
HELD = len(sys.argv) > 4 and sys.argv[4] == "held"
if HELD:
    import ctypes

    usleep = ctypes.PyDLL(None).usleep


def wait_for_work():
    select.select([], [], [], WAIT)


def burst():
    if HELD:
        usleep(int(BURST * 1e6))
        return 0
    end = time.perf_counter() + BURST
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


if __name__ == "__main__":
    truth = sys.argv[1]
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start = time.perf_counter()
    busy = 0.0
    rounds = 0
    while True:
        wait_for_work()
        t = time.perf_counter()
        burst()
        busy += time.perf_counter() - t
        rounds += 1
        if rounds % 10 == 0:
            with open(truth + ".tmp", "w") as f:
                f.write("%f\n" % (busy / (time.perf_counter() - start)))
            import os
            os.replace(truth + ".tmp", truth)
