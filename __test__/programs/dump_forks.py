# A parent that forks two children; each process sleeps in a function named after its role.
# The parent says "ready" only once both children are inside child_sleeps (each tells it so
# through a pipe), so a dump right after "ready" finds them there, not still in main.
import os
import sys
import time


def child_sleeps(parent, ready_fd):
    os.write(ready_fd, b"x")
    os.close(ready_fd)
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
    ready_read, ready_write = os.pipe()
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ready_read)
                child_sleeps(parent, ready_write)
            finally:
                os._exit(0)
        children.append(pid)
    os.close(ready_write)
    got = b""
    while len(got) < 2:
        chunk = os.read(ready_read, 2 - len(got))
        if not chunk:
            break
        got += chunk
    os.close(ready_read)
    parent_waits(children)


if __name__ == "__main__":
    main()
