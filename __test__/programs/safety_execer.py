# Burns CPU for argv[1] seconds, then replaces itself (exec) with a new Python program that
# burns CPU forever under other names.
import os
import sys
import time


def before_exec(seconds):
    end = time.time() + seconds
    while time.time() < end:
        sum(range(1000))


def main():
    print("ready", flush=True)
    before_exec(float(sys.argv[1]))
    code = "def after_exec():\n    while True:\n        sum(range(1000))\nafter_exec()\n"
    os.execv(sys.executable, [sys.executable, "-c", code])


main()
