# Burns CPU in spin_forever() until killed; its argument makes its command line findable.
import sys


def spin_forever():
    total = 0
    while True:
        for i in range(1000):
            total += i


if __name__ == "__main__":
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    spin_forever()
