# A command for -t: forks short-lived children (they exit at once, as a SIGCHLD storm would
# come), then says on its stdout (which must not reach the profile) when its last phase
# starts, works in final_phase() and exits with status 3. Works on Python 2.7 and 3.x.
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
    fork_phase()
    sys.stdout.write("final phase at %.6f\n" % time.time())
    sys.stdout.flush()
    final_phase()
    sys.exit(3)


if __name__ == "__main__":
    main()
