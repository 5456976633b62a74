# Recurses to a random depth (up to ~900 frames) and unwinds, over and over: most of its time
# goes to calls and returns. Python 2.7 and 3.x.
import random
import sys

sys.setrecursionlimit(5000)


def leaf():
    total = 0
    for i in range(20):
        total += i
    return total


def rec(n):
    if n == 0:
        return leaf()
    return rec(n - 1)


def main():
    while True:
        rec(random.randint(100, 900))


sys.stdout.write("ready\n")
sys.stdout.flush()
main()
