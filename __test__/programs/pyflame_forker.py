# A command for -t: forks short-lived children (they exit at once, as a SIGCHLD storm would
# come), prints to its stdout (which must not reach the profile), then works in final_phase()
# before exiting with status 3. Works on Python 2.7 and 3.x.
import os
import sys
import time


def burn(seconds):
    deadline = time.time() + seconds
    total = 0
    while time.time() < deadline:
        for i in range(200):
            total += i
    return total


def fork_phase():
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            burn(0.01)
            os._exit(0)
        burn(0.05)
        os.waitpid(pid, 0)


def final_phase():
    burn(0.4)


def main():
    sys.stdout.write("pyflame_forker says hello on stdout\n")
    sys.stdout.flush()
    fork_phase()
    final_phase()
    sys.exit(3)


if __name__ == "__main__":
    main()
