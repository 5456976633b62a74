# A "master" that forks two worker processes which burn CPU, then waits (like gunicorn).
import os
import sys
import time


def worker_loop():
    total = 0
    while True:
        for i in range(1000):
            total += i


def master():
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            worker_loop()
            os._exit(0)
        children.append(pid)
    sys.stdout.write("ready %s\n" % " ".join(str(c) for c in children))
    sys.stdout.flush()
    while True:
        time.sleep(0.1)


if __name__ == "__main__":
    master()
