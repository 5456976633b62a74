# Runs for about a second of CPU, printing to stdout (which must not reach the profile), then exits 3.
import sys
import time


def compute():
    total = 0
    deadline = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 1.0)
    while time.time() < deadline:
        for i in range(1000):
            total += i
    return total


sys.stdout.write("program output line\n")
sys.stdout.flush()
compute()
sys.exit(3)
