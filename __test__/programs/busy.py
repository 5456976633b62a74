# Burns CPU in two functions with a known 3:1 split, forever (the test kills it).
import sys
import time


def heavy():
    total = 0
    for i in range(30000):
        total += i * i
    return total


def light():
    total = 0
    for i in range(10000):
        total += i * i
    return total


def main():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        heavy()
        light()


if __name__ == "__main__":
    main()
