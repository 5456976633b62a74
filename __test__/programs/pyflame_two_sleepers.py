# Two worker threads that mostly sleep (napper_one, napper_two) while the main thread waits
# in join(): for --threads (every thread shows, idle or not) and -d (one header per thread).
import sys
import threading
import time


def snooze_and_spin():
    while True:
        time.sleep(0.05)
        deadline = time.time() + 0.01
        while time.time() < deadline:
            pass


def napper_one():
    snooze_and_spin()


def napper_two():
    snooze_and_spin()


def main():
    threads = [threading.Thread(target=f) for f in (napper_one, napper_two)]
    for t in threads:
        t.daemon = True
        t.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for t in threads:
        while t.is_alive():
            t.join(1.0)


if __name__ == "__main__":
    main()
