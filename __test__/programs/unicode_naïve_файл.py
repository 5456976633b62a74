# -*- coding: utf-8 -*-
# Non-ASCII function names (Latin-1, BMP and astral code points) in a non-ASCII file name.
import sys


def naïve():
    total = 0
    for i in range(20000):
        total += i
    return total


def café_睡眠():
    return naïve()


def mid_𠀀():
    return café_睡眠()


def main():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        mid_𠀀()


if __name__ == "__main__":
    main()
