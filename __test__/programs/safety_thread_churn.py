# Threads that start and end all the time: every thread lives a few milliseconds.
import threading


def short_life():
    total = 0
    for i in range(3000):
        total += i


def main():
    print("ready", flush=True)
    while True:
        batch = [threading.Thread(target=short_life) for _ in range(4)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()


main()
