# A stack that changes all the time: recursion that goes deep and unwinds, over and over, to
# varying depths. The only call paths are <module> -> main -> rec -> rec ... -> rec -> leaf.
import random


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
    print("ready", flush=True)
    while True:
        rec(rng.randint(1, 60))


main()
