# argv[1] threads (500 in the test): most sleep in short naps, a few burn CPU.
import sys
import threading
import time


def napper():
    while True:
        time.sleep(0.05)


def burner():
    while True:
        sum(range(1000))


def main(n):
    for i in range(n):
        target = burner if i % 100 == 0 else napper
        threading.Thread(target=target, daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(1)


main(int(sys.argv[1]))
