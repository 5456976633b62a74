# A parent that forks two children; each process sleeps in a function named after its role.
import os
import sys
import time


def child_sleeps(parent):
    # Exit with the parent: a test that kills the parent leaves no orphan behind.
    while os.getppid() == parent:
        time.sleep(0.5)


def parent_waits(children):
    sys.stdout.write("ready %s\n" % " ".join(str(c) for c in children))
    sys.stdout.flush()
    while True:
        time.sleep(0.5)


def main():
    children = []
    parent = os.getpid()
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            try:
                child_sleeps(parent)
            finally:
                os._exit(0)
        children.append(pid)
    parent_waits(children)


if __name__ == "__main__":
    main()
