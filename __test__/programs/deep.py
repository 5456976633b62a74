# Recurses DEPTH levels deep, then burns CPU at the bottom forever.
import sys

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 220
sys.setrecursionlimit(DEPTH + 100)


def bottom():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    total = 0
    while True:
        for i in range(1000):
            total += i


def recurse(level):
    if level == 0:
        bottom()
    else:
        recurse(level - 1)


if __name__ == "__main__":
    recurse(DEPTH)
