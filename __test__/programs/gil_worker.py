# The main thread sleeps (releasing the GIL) while a worker thread burns CPU.
import sys
import threading
import time


def crunch():
    total = 0
    while True:
        for i in range(1000):
            total += i * i


def wait_forever():
    while True:
        time.sleep(0.2)


def main():
    worker = threading.Thread(target=crunch, name="cruncher")
    worker.daemon = True
    worker.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    wait_forever()


if __name__ == "__main__":
    main()
