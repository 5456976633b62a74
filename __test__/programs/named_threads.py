# Threads named in Python (and not in the kernel): `worker-a` burns CPU, `worker-b` sleeps,
# the main thread is Python's `MainThread`. Python 2.7 and 3.x. Prints each thread's ident.
import sys
import threading
import time


def burn():
    total = 0
    while True:
        for i in range(10000):
            total += i


def nap():
    while True:
        time.sleep(5)


def main():
    threads = [threading.Thread(target=burn, name="worker-a"), threading.Thread(target=nap, name="worker-b")]
    for t in threads:
        t.daemon = True
        t.start()
    # A thread renamed after it started shows its new name.
    renamed = threading.Thread(target=nap, name="before-rename")
    renamed.daemon = True
    renamed.start()
    renamed.name = "renamed-c"
    while not all(t.is_alive() for t in threads):
        time.sleep(0.01)
    idents = [(t.name, t.ident) for t in [threading.current_thread()] + threads + [renamed]]
    sys.stdout.write("ready " + " ".join("%s=%d" % pair for pair in idents) + "\n")
    sys.stdout.flush()
    while True:
        time.sleep(5)


main()
