# Runs the C chain of nativechain.c and a Python loop, and records how long each took (its
# own clock) so the test can compare the sampled shares with the truth.
#   work_native   -> py_entry -> c_outer -> c_inner              (C busy loop)
#   work_callback -> py_entry -> c_outer -> inner_python -> python_spin (Python busy loop)
import random
import sys
import time

sys.path.insert(0, sys.argv[1])
import nativechain

truth_file = sys.argv[2]
python_spun = [0.0]


def python_spin(seconds):
    start = time.time()
    end = start + seconds
    x = 0
    while True:
        for i in range(200):
            x += i
        t = time.time()
        if t >= end:
            break
    python_spun[0] += t - start


# Durations vary at random so that the program's period cannot lock onto the sampling period.
def inner_python():
    python_spin(random.uniform(0.004, 0.012))


def work_native():
    nativechain.py_entry(random.uniform(0.006, 0.018))


def work_callback():
    nativechain.py_entry(0.0, inner_python)


def main():
    started = time.time()
    last_write = 0.0
    print("ready")
    sys.stdout.flush()
    while True:
        work_native()
        work_callback()
        now = time.time()
        if now - last_write > 0.05:
            last_write = now
            with open(truth_file + ".tmp", "w") as f:
                f.write("%r %r %r\n" % (now - started, nativechain.spun_seconds(), python_spun[0]))
            import os
            os.rename(truth_file + ".tmp", truth_file)


main()
