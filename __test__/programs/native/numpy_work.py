# numpy matrix products and sorts: time in numpy's C code and BLAS under Python callers.
import sys

import numpy as np

a = np.random.rand(300, 300)
v = np.random.rand(200000)


def matmul_part():
    for _ in range(4):
        a @ a


def sort_part():
    np.sort(v)


def main():
    print("ready")
    sys.stdout.flush()
    while True:
        matmul_part()
        sort_part()


main()
