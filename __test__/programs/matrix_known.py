# Known stacks for the support matrix (runs on 2.7 and every 3.x): the main thread spins
# in spin() under outer(); a second thread, "napper", sleeps in nap() (GIL released).
import sys
import threading
import time


def nap():
    while True:
        time.sleep(0.05)  # NAP_LINE = 10


def spin():
    x = 0
    while True:
        x += 1  # SPIN_LINE = 16 (or 15, the loop test)


def outer():
    spin()  # OUTER_LINE = 20


def main():
    napper = threading.Thread(target=nap, name="napper")
    napper.daemon = True
    napper.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    outer()  # MAIN_LINE = 29


if __name__ == "__main__":
    main()
