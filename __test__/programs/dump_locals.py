# A function holding known local values, sleeping so `dump --locals` can read them.
import sys
import time


def holds_locals(count):
    x = 42
    s = "hello"
    negative = -7
    big = 2 ** 100
    ratio = 1.5
    flag = True
    nothing = None
    raw = b"bytes\n"
    items = [1, 2, 3]
    long_text = "y" * 500
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(0.5)


if __name__ == "__main__":
    holds_locals(3)
