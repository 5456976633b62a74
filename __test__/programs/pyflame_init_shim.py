# Builds objects whose __init__ does the work: on CPython 3.13 the call goes through the
# interpreter's `__init__` shim frame, which has no line number.
import sys


class Widget(object):
    def __init__(self):
        total = 0
        for i in range(2000):
            total += i
        self.total = total


def main():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        Widget()


if __name__ == "__main__":
    main()
