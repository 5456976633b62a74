# Prints "ready", works for about three seconds in short_life(), then exits on its own (for
# -s 10 on a target that ends first).
import sys
import time


def short_life():
    deadline = time.time() + 3.0
    total = 0
    while time.time() < deadline:
        for i in range(200):
            total += i
    return total


if __name__ == "__main__":
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    short_life()
