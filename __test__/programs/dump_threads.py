# Main thread waits in a known function while two named threads run known functions:
# one burns CPU (usually holding the GIL), one sleeps (idle). Each thread also gives itself
# an OS name (prctl PR_SET_NAME), the name `dump` shows, as servers often do.
import ctypes
import ctypes.util
import sys
import threading
import time

PR_SET_NAME = 15


def name_os_thread(name):
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode("ascii")), 0, 0, 0)


def burn_cpu_forever():
    name_os_thread("burner")
    total = 0
    while True:
        for i in range(10000):
            total += i


def sleep_forever():
    name_os_thread("sleeper")
    while True:
        time.sleep(5)  # long sleeps: idle in nearly every sample


def main_waits(threads):
    name_os_thread("main-waits")
    while not all(t.is_alive() for t in threads):
        time.sleep(0.01)
    time.sleep(0.1)  # let both threads name themselves
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(5)  # long sleeps: idle in nearly every sample


def main():
    threads = [
        threading.Thread(target=burn_cpu_forever, name="burner"),
        threading.Thread(target=sleep_forever, name="sleeper"),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    main_waits(threads)


if __name__ == "__main__":
    main()
