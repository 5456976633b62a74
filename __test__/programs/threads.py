# Three threads, each burning CPU in its own function, forever.
import sys
import threading


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def worker_alpha():
    while True:
        spin(5000)


def worker_beta():
    while True:
        spin(5000)


def worker_gamma():
    while True:
        spin(5000)


def main():
    threads = [threading.Thread(target=f, name=f.__name__) for f in (worker_alpha, worker_beta, worker_gamma)]
    for t in threads:
        t.daemon = True
        t.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
