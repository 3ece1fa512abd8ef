"""sha1_openssl.py - OpenSSL's SHA-1 speed on a file, measured the way `sha1file --memory` measures
the toolkit's, for `make bench` (bench/run.sh) to compare the two in the same run.

    python3 bench/sha1_openssl.py FILE

Python's hashlib hands SHA-1 to OpenSSL's libcrypto (the same code the `openssl` command uses, with
its SHA-NI and AVX2 paths picked at run time). The file (its first 64 MiB at most) is read into
memory first, then hashed twenty times in 1 MiB updates, each pass timed in processor time (the
wall clock would also count the moments other programs had the processor), and the fastest pass is
reported. Python's own cost is one call per MiB, far below the hashing.

Prints "<40 hex digits>  FILE" like sha1sum, and on stderr
"sha1_openssl: N bytes in S s (R MB/s, OpenSSL VERSION)".
"""
import hashlib
import ssl
import sys
import time

CHUNK = 1 << 20
PASSES = 20
MEMORY_MAX = 64 << 20


def main():
    if len(sys.argv) != 2:
        print("usage: sha1_openssl.py FILE", file=sys.stderr)
        return 2
    # A Python built without OpenSSL falls back to its own, slower SHA-1: then there is nothing
    # to compare with, and saying so beats printing a misleading figure.
    if getattr(hashlib.sha1, "__name__", "") != "openssl_sha1":
        print("sha1_openssl: this Python's hashlib does not use OpenSSL", file=sys.stderr)
        return 3
    with open(sys.argv[1], "rb") as f:
        data = memoryview(f.read(MEMORY_MAX))
    best = None
    digest = ""
    for _ in range(PASSES):
        h = hashlib.sha1()
        t0 = time.process_time()
        for off in range(0, len(data), CHUNK):
            h.update(data[off:off + CHUNK])
        digest = h.hexdigest()
        s = time.process_time() - t0
        best = s if best is None or s < best else best
    print(f"{digest}  {sys.argv[1]}")
    rate = len(data) / best / 1e6 if best > 0 else 0.0
    print(f"sha1_openssl: {len(data)} bytes in {best:.3f} s ({rate:.1f} MB/s, {ssl.OPENSSL_VERSION})",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
