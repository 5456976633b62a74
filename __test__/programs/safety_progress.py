# CPU-bound threads that count their work; the main thread writes the total to the file
# given as argv[1] every 10 ms, so a test can see the program keeps making progress.
import os
import sys
import threading

counts = [0, 0, 0]


def burn(slot):
    while True:
        total = 0
        for i in range(2000):
            total += i
        counts[slot] += 1


def main(path):
    for slot in range(len(counts)):
        threading.Thread(target=burn, args=(slot,), daemon=True).start()
    print("ready", flush=True)
    tmp = path + ".tmp"
    while True:
        with open(tmp, "w") as f:
            f.write(str(sum(counts)))
        os.replace(tmp, path)
        threading.Event().wait(0.01)


main(sys.argv[1])
