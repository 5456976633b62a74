# Sleeps almost all the time: nothing holds the GIL while it waits.
import sys
import time


def snooze():
    time.sleep(0.5)


def main():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        snooze()


if __name__ == "__main__":
    main()
