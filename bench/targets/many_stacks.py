"""Benchmark target for the long run: cycles through many distinct stacks (about 2,000 frame/line
combinations) so that a profiler's aggregated profile grows until every stack has been seen and
must then stay flat."""
import sys

BRANCHES = 40


def make(i):
    # one distinct function (name and code object) per branch
    src = f"def branch_{i}(depth):\n    if depth:\n        return branch_{i}(depth - 1)\n    x = 0\n    for k in range(2000):\n        x += k\n    return x\n"
    scope = {}
    exec(compile(src, f"<branch_{i}>", "exec"), scope)
    return scope[f"branch_{i}"]


branches = [make(i) for i in range(BRANCHES)]
for i, fn in enumerate(branches):
    fn.__globals__[f"branch_{i}"] = fn
print("ready", flush=True)
while True:
    for i, fn in enumerate(branches):
        fn(i % 25)
