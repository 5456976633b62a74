# Forks a short-lived child again and again while the parent burns CPU.
import os


def child_work():
    total = 0
    for i in range(20000):
        total += i
    os._exit(0)


def parent_work():
    total = 0
    for i in range(20000):
        total += i


def main():
    print("ready", flush=True)
    while True:
        pid = os.fork()
        if pid == 0:
            child_work()
        parent_work()
        os.waitpid(pid, 0)


main()
