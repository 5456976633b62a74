# For the format tests: a CPU-bound main thread, a CPU-bound worker thread and a sleeping
# thread, with a non-ASCII function name, so a real profile has several threads, GIL holders,
# idle threads and Unicode in its frames. Prints "ready" once every thread runs; runs until killed.
import sys
import threading
import time


def größe_berechnen(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def worker_loop():
    while True:
        größe_berechnen(20000)


def sleeper_loop():
    while True:
        time.sleep(0.05)


def main():
    threading.Thread(target=worker_loop, name="worker", daemon=True).start()
    threading.Thread(target=sleeper_loop, name="sleeper", daemon=True).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        größe_berechnen(50000)


if __name__ == "__main__":
    main()
