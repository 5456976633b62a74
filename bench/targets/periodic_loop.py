"""Benchmark target: the test suite's periodic loop (__test__/programs/periodic.py), run as is.

periodic_loop.py PERIOD_MS SPLIT MODE: see that file. Its alpha/beta/gamma take SPLIT of each
period; SIGUSR1 resets its own wall-time totals, SIGUSR2 prints them as one JSON line.
"""
import os
import runpy
import sys

program = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "__test__", "programs", "periodic.py")
sys.argv = [program] + sys.argv[1:]
runpy.run_path(program, run_name="__main__")
