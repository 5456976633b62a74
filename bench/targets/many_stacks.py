"""Benchmark target for the long run: cycles through about 1,000 distinct stacks (40 functions at
recursion depths 0-24), so a profiler's aggregated profile grows until every stack has been seen
and must then stay flat."""
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
shift = 0
while True:
    # every branch at every depth 0-24 in turn: 1,000 distinct stacks
    for i, fn in enumerate(branches):
        fn((i + shift) % 25)
    shift += 1
