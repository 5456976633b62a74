# Main thread waits in a known function while two named threads run known functions:
# one burns CPU (usually holding the GIL), one sleeps (idle).
import sys
import threading
import time


def burn_cpu_forever():
    total = 0
    while True:
        for i in range(10000):
            total += i


def sleep_forever():
    while True:
        time.sleep(0.5)


def main_waits(threads):
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(0.5)


def main():
    threads = [
        threading.Thread(target=burn_cpu_forever, name="burner"),
        threading.Thread(target=sleep_forever, name="sleeper"),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    main_waits(threads)


if __name__ == "__main__":
    main()
