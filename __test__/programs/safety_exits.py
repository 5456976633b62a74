# Burns CPU for argv[1] seconds, then exits normally.
import sys
import time


def work_then_leave(seconds):
    end = time.time() + seconds
    while time.time() < end:
        sum(range(1000))


print("ready", flush=True)
work_then_leave(float(sys.argv[1]))
