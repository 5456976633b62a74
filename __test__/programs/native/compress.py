# zlib and hashlib in a loop: time in C libraries under known Python functions.
import hashlib
import os
import sys
import zlib

data = os.urandom(1 << 18)


def compress_part():
    return zlib.compress(data, 6)


def hash_part():
    for _ in range(8):
        hashlib.sha256(data).digest()


def main():
    print("ready")
    sys.stdout.flush()
    while True:
        compress_part()
        hash_part()


main()
