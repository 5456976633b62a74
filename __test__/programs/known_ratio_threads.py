# N threads (argv[1]) burn CPU in heavy() and light(), each measuring with its own CPU clock
# how long it spent in each; the main thread writes every thread's totals to argv[2] (JSON,
# replaced atomically) every 50 ms, so a test can diff them around a recording.
import json
import os
import random
import sys
import threading
import time

totals = {}


def heavy(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def light(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def worker(index):
    rng = random.Random(index)
    mine = {"heavy": 0.0, "light": 0.0, "tid": threading.get_native_id()}
    totals[threading.current_thread().name] = mine
    clock = time.thread_time
    while True:
        # Jittered sizes: no fixed period for a periodic sampler to alias with. Each thread
        # has its own split (light grows with the index), so a mix-up between threads shows.
        t0 = clock()
        heavy(rng.randint(20000, 40000))
        t1 = clock()
        light(rng.randint(5000, 15000) * (index + 1))
        t2 = clock()
        mine["heavy"] += t1 - t0
        mine["light"] += t2 - t1


def main():
    count, out = int(sys.argv[1]), sys.argv[2]
    for index in range(count):
        threading.Thread(target=worker, args=(index,), name="worker-%d" % index, daemon=True).start()
    while len(totals) < count:
        time.sleep(0.01)

    def write():
        snapshot = {name: dict(values) for name, values in list(totals.items())}
        with open(out + ".tmp", "w") as f:
            json.dump(snapshot, f)
        os.replace(out + ".tmp", out)

    write()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(0.05)
        write()


if __name__ == "__main__":
    main()
