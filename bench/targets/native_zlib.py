# Target of bench/native.mjs: zlib and sha256 on 256 KiB buffers in a loop (most time in C
# libraries), writing "<seconds since start> <iterations>" to argv[1] every 0.1 s so the bench
# can measure the target's throughput with and without a profiler attached.
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
                f.write("%r %d\n" % (now - start, iterations))
            os.rename(out + ".tmp", out)


main()
