# make bench: the toolkit's figures, one `name: value` line each (and build/bench.json).
# The small C programs in bench/ measure the machine's own limits, and bench/sha1_openssl.py
# OpenSSL's SHA-1 (through Python's hashlib, which needs nothing installed); bench/run.sh drives
# them, minitorrent and the real clients. `make bench QUICK=1` is the short version.

BENCH_PROGS := $(patsubst bench/%.c,build/bench/%,$(wildcard bench/*.c))

build/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g $(CPPFLAGS_TK) -pthread -o $@ $< $(LIB) $(LDLIBS_TK)

.PHONY: bench bench-build
bench-build: all $(BENCH_PROGS)

bench: bench-build
	@QUICK=$(QUICK) sh bench/run.sh
