# Alternates: sleeps 0.1 s in nap() (no thread holds the GIL), then burns 0.1 s in toil().
# Works on Python 2.7 and 3.x. Prints "ready" once running.
import sys
import time


def nap():
    time.sleep(0.1)


def toil():
    deadline = time.time() + 0.1
    total = 0
    while time.time() < deadline:
        for i in range(200):
            total += i
    return total


def main():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        nap()
        toil()


if __name__ == "__main__":
    main()
