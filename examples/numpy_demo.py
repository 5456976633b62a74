# A small numpy workload for the README's --native flame graph: matrix products (BLAS),
# sorting (numpy's C sort), elementwise math and a pure-Python loop, in known proportions.
import sys
import time

import numpy as np

rng = np.random.default_rng(0)
weights = rng.random((256, 256))
samples = rng.random(400_000)


def fit(rounds):
    m = weights
    for _ in range(rounds):
        m = m @ weights
        m /= m.max()
    return m


def preprocess():
    return np.sort(samples)


def normalize():
    return np.tanh(samples * 3.0) + np.sqrt(samples)


def score(values):
    total = 0.0
    for v in values[:20_000].tolist():
        total += v * v
    return total


def main():
    print("ready")
    sys.stdout.flush()
    deadline = time.time() + float(sys.argv[1]) if len(sys.argv) > 1 else None
    while deadline is None or time.time() < deadline:
        fit(6)
        preprocess()
        normalize()
        score(samples)


main()
