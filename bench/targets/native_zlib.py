# Target of bench/native.mjs: zlib and sha256 on 256 KiB buffers in a loop (most time in C
# libraries), writing "<seconds since start> <iterations> <ns run> <ns waited for a CPU>" to
# argv[1] every 0.1 s so the bench can measure the target's throughput with and without a
# profiler attached.
import hashlib
import os
import sys
import time
import zlib

data = os.urandom(1 << 18)
out = sys.argv[1]


def compress_part():
    return zlib.compress(data, 6)


def hash_part():
    return hashlib.sha256(data).digest()


def schedstat():
    # Nanoseconds this (only) thread ran and waited for a CPU: the bench leaves the waits out
    # of the time the target had, so other jobs on the machine do not count as slowdown.
    try:
        with open("/proc/thread-self/schedstat") as f:
            run, wait = f.read().split()[:2]
        return "%s %s" % (run, wait)
    except (OSError, ValueError):
        return "-1 -1"


def main():
    start = time.time()
    last = 0.0
    iterations = 0
    print("ready")
    sys.stdout.flush()
    while True:
        compress_part()
        hash_part()
        iterations += 1
        now = time.time()
        if now - last >= 0.1:
            last = now
            with open(out + ".tmp", "w") as f:
                f.write("%r %d %s\n" % (now - start, iterations, schedstat()))
            os.rename(out + ".tmp", out)


main()
