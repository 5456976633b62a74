# A stack that changes all the time: recursion that goes deep and unwinds, over and over, to
# varying depths. The only call paths are <module> -> main -> rec -> rec ... -> rec -> leaf
# (and main -> random's internals). Runs on 2.7 and every 3.x.
import random
import sys


def leaf():
    total = 0
    for i in range(50):
        total += i
    return total


def rec(depth):
    if depth == 0:
        return leaf()
    return rec(depth - 1) + 1


def main():
    rng = random.Random(7)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        rec(rng.randint(1, 60))


main()
