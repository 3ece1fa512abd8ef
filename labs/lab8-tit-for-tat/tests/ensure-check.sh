#!/bin/sh
# Makes sure the Check unit-test library (and pkg-config, which finds it) is installed.
# As root on Debian or Ubuntu it installs them with apt-get; otherwise it stops and prints the exact
# command to run, because a test run that silently skips every test would be worse than no run.
set -e

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists check 2>/dev/null; then
    exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-check: Check is missing; installing it with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq check pkg-config >/dev/null
    pkg-config --exists check && exit 0
    echo "ensure-check: apt-get ran but pkg-config still cannot find check" >&2
    exit 1
fi

echo "ensure-check: the Check unit-test library is not installed. Install it with:" >&2
case "$(uname -s)" in
Darwin) echo "    brew install check pkg-config" >&2 ;;
*) echo "    sudo apt-get install -y check pkg-config" >&2 ;;
esac
exit 1
