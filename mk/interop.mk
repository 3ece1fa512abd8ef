# Interoperability with real BitTorrent clients: aria2 and libtorrent (Debian's aria2 and
# python3-libtorrent, run with /usr/bin/python3), on loopback only.
#
#   make interop                  every scenario, one line each, then "P passed, F failed"
#   make interop INTEROP="2 5"    only scenarios 2 and 5
#   make interop INTEROP_MIB=64   bigger files (default 8 MiB)
#
# Each scenario runs in its own network namespace, which needs root; as another user every
# scenario is skipped with the reason printed. As root, missing clients are an error: CI's
# .ci/run installs them first (apt-get install -y aria2 python3-libtorrent). The scenarios and
# their drivers are in tests/interop/ (run.sh, lt_peer.py, tracker_wait.py).

INTEROP ?=
INTEROP_MIB ?= 8

.PHONY: interop

interop: all
	@MINITORRENT=$(BINDIR)/minitorrent INTEROP_MIB=$(INTEROP_MIB) bash tests/interop/run.sh $(INTEROP)
