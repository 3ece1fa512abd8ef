#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, on its Ubuntu image, when the autograder is built.
# It installs what a lab needs to build and grade: a C compiler and make, the Check unit-test
# library and pkg-config (which finds it), and python3 (the UDP labs run the textbook's Python
# programs against the student's). The compiler's sanitizer runtimes come with gcc.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq build-essential check pkg-config python3 >/dev/null
