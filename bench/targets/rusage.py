"""Runs a command and prints its resource usage as JSON on fd 3 (user/sys CPU and max RSS of the
command and the children it waited for), so the harness measures profilers uniformly.

usage: rusage.py COMMAND [ARGS...]   (stdout/stderr of the command pass through)
"""
import json
import os
import sys
import time

t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
result = {
    "user": usage.ru_utime,
    "sys": usage.ru_stime,
    "maxrss_kb": usage.ru_maxrss,
    "wall": wall,
    "status": os.waitstatus_to_exitcode(status),
}
with os.fdopen(3, "w") as out:
    out.write(json.dumps(result))
sys.exit(0)
