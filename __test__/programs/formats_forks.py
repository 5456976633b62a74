# For the format tests with --subprocesses: a parent that sleeps (no GIL holder: Pyflame's
# (idle)) and two forked children that burn CPU. Children exit when the parent is gone.
# Prints "ready" once both children run; runs until killed.
import os
import sys
import time


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def child_loop(parent):
    while os.getppid() == parent:
        spin(100000)
    os._exit(0)


def main():
    parent = os.getpid()
    for _ in range(2):
        if os.fork() == 0:
            child_loop(parent)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(0.1)


if __name__ == "__main__":
    main()
