# Fuzzing with clang's libFuzzer: one harness per parser that reads bytes from strangers.
#
#   make fuzz                   build every harness, run each for FUZZ_SECONDS (default 10), print
#                               "fuzz NAME: N execs, M crashes" per harness; fails on any crash
#   make fuzz FUZZ_SECONDS=60   longer runs; the corpus grows in build/fuzz/corpus/ between runs
#   make fuzz FUZZ_TARGETS="bencode wire"   only these harnesses
#   make -j2 fuzz               two harnesses at a time
#   make fuzz-build             only build them (build/fuzz/bin/fuzz_NAME)
#   make fuzz-totals            executions and crashes per harness, added up over every run so far
#   make fuzz-seeds             regenerate the seed corpora in fuzz/corpus/ (gcc, no libFuzzer)
#
# The harnesses and the library they test are compiled by clang into build/fuzz/, apart from
# the gcc objects of `make` and `make check`, with -fsanitize=fuzzer (coverage-guided input
# generation), address (out-of-bounds, use-after-free, leaks) and undefined (overflow, shifts,
# misaligned loads). The target logic lives in fuzz/fuzz_NAME.c; tests/check_fuzz_regressions.c
# runs the same functions on the seed corpora and on past crashes in the normal suite.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_DIR := build/fuzz
FUZZ_ALL := bencode metainfo wire session tracker_http_reply tracker_http_request tracker_udp \
            url linereader upper_session upper_datagram
FUZZ_TARGETS ?= $(FUZZ_ALL)

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The library gets coverage instrumentation (fuzzer-no-link) without libFuzzer's main().
FUZZ_CFLAGS = $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CPPFLAGS_TK) -Ifuzz -pthread \
              -MMD -MP
# The harnesses use only the core, common/ and the TCP session, not the socket shell.
FUZZ_LIB_SRC := $(filter common/% tcp_upper/% minitorrent/core/%,$(LIB_SRC))
FUZZ_LIB := $(FUZZ_DIR)/libtoolkit.a
FUZZ_UTIL_OBJ := $(FUZZ_DIR)/obj/fuzz/fuzz_util.o
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/bin/fuzz_%)

# The lines and sessions the uppercase harnesses read are longer than libFuzzer's default
# 4096-byte inputs, so longer inputs reach the "line too long" path.
FUZZ_OPTS_linereader := -max_len=12000
FUZZ_OPTS_upper_session := -max_len=12000
FUZZ_OPTS_session := -max_len=20000
FUZZ_OPTS_metainfo := -max_len=8192

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-totals fuzz-have-clang

fuzz-have-clang:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	  echo "fuzz: $(FUZZ_CC) not found; libFuzzer comes with clang. Install it with:"; \
	  echo "fuzz:     apt-get install -y clang"; exit 1; }

$(FUZZ_DIR)/obj/%.o: %.c | fuzz-have-clang
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

# The harness files also get -DFUZZ_LIBFUZZER, which turns on their LLVMFuzzerTestOneInput().
$(FUZZ_DIR)/obj/fuzz/fuzz_%.o: fuzz/fuzz_%.c | fuzz-have-clang
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_LIBFUZZER -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/bin/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_UTIL_OBJ) $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -pthread

fuzz-build: $(FUZZ_BINS)

# Each harness runs as its own make target, so `make -j2 fuzz` runs two at a time; fuzz/run.sh
# writes one result line per harness and `fuzz` prints them all and fails on any crash.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)
	@sh fuzz/run.sh summary $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-run-%: $(FUZZ_DIR)/bin/fuzz_%
	@sh fuzz/run.sh run $(FUZZ_DIR) $* $(FUZZ_SECONDS) $(FUZZ_OPTS_$*)

fuzz-totals:
	@sh fuzz/run.sh totals $(FUZZ_DIR)

# The seed generator is an ordinary program on the gcc-built library.
$(FUZZ_DIR)/make_seeds: fuzz/tools/make_seeds.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS_TK)

fuzz-seeds: $(FUZZ_DIR)/make_seeds
	$(FUZZ_DIR)/make_seeds fuzz/corpus

# The regression suite calls the targets directly, so it links their gcc objects. They come after
# the library on the link line, so the library is named once more behind them.
FUZZ_TEST_OBJ := $(patsubst %.c,$(OBJDIR)/%.o,$(wildcard fuzz/fuzz_*.c))
$(TESTDIR)/check_fuzz_regressions: $(FUZZ_TEST_OBJ)
$(TESTDIR)/check_fuzz_regressions: LDLIBS_TK = $(LIB) -pthread
