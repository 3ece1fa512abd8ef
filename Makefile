# The toolkit's one build file.
#
#   make                 build every program into bin/
#   make check           build and run every test (installs Check first if it can)
#   make check SANITIZE=address,undefined   the same tests under ASan + UBSan
#   make check SANITIZE=thread              the same tests under TSan
#   make check SUITES="udp net"             only tests/check_udp.c and tests/check_net.c
#   make demo            run the lecture demo on loopback; it finishes by itself
#   make demo-sockets    the UDP and TCP uppercase pairs, talking on loopback
#   make format          reformat the tree with .clang-format
#   make clean           remove bin/ and build/
#
# Objects live in build/VARIANT/, one variant per sanitizer setting, so switching between
# `make check` and `make check SANITIZE=thread` never mixes objects built with different flags.

CC ?= cc
OPT ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Werror
CPPFLAGS_TK := -D_POSIX_C_SOURCE=200809L -Icommon -Itcp_upper -Iminitorrent/core -Iminitorrent/shell
LDLIBS_TK := -pthread

comma := ,
SANITIZE ?=
ifeq ($(strip $(SANITIZE)),)
VARIANT := default
BINDIR := bin
SANFLAGS :=
else
VARIANT := san-$(subst $(comma),-,$(SANITIZE))
BINDIR := build/$(VARIANT)/bin
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT := -O1 -g
endif
OBJDIR := build/$(VARIANT)/obj
TESTDIR := build/$(VARIANT)/tests

ALL_CFLAGS = $(WARN) $(OPT) $(SANFLAGS) $(CPPFLAGS_TK) $(CPPFLAGS) $(CFLAGS) -pthread -MMD -MP
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

# Each program is one file named after it; every other .c file in these folders is library code
# that the programs and the tests link from one archive.
PROGRAMS := udp_upper_server udp_upper_client \
            tcp_upper_server1 tcp_upper_server2 tcp_upper_server3 tcp_upper_client
PROGRAM_SRC := $(addprefix udp_upper/,udp_upper_server.c udp_upper_client.c) \
               $(addprefix tcp_upper/,tcp_upper_server1.c tcp_upper_server2.c \
                                      tcp_upper_server3.c tcp_upper_client.c)
ifneq ($(wildcard minitorrent/minitorrent.c),)
PROGRAMS += minitorrent
PROGRAM_SRC += minitorrent/minitorrent.c
endif

LIB_SRC := $(filter-out $(PROGRAM_SRC),$(wildcard common/*.c udp_upper/*.c tcp_upper/*.c \
             minitorrent/core/*.c minitorrent/shell/*.c))
LIB := build/$(VARIANT)/libtoolkit.a
LIB_OBJ := $(LIB_SRC:%.c=$(OBJDIR)/%.o)

# Tests: every tests/check_*.c is one Check suite and one binary; tests/lib/ holds shared helpers.
TEST_SRC := $(wildcard tests/check_*.c)
TEST_BINS := $(TEST_SRC:tests/%.c=$(TESTDIR)/%)
# SUITES="tcp_server swarm" runs only those suites (CI runs the threaded ones under TSan).
ifneq ($(strip $(SUITES)),)
TEST_BINS := $(addprefix $(TESTDIR)/check_,$(SUITES))
endif
TESTLIB_OBJ := $(patsubst %.c,$(OBJDIR)/%.o,$(wildcard tests/lib/*.c))
# Recursive (=) so that a Check installed by tests/ensure-check.sh earlier in the same run is found.
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all check check-run demo demo-sockets format clean
# Keep objects that pattern rules build on the way; make would otherwise delete them.
.SECONDARY:
all: $(PROGRAMS:%=$(BINDIR)/%)

$(OBJDIR)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OBJDIR)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/lib $(CHECK_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BINDIR)/%: $(OBJDIR)/udp_upper/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_TK)
$(BINDIR)/%: $(OBJDIR)/tcp_upper/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_TK)
$(BINDIR)/minitorrent: $(OBJDIR)/minitorrent/minitorrent.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_TK)

$(TESTDIR)/%: $(OBJDIR)/tests/%.o $(TESTLIB_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS_TK)

# `make check` first makes sure Check is there (installing it when run as root), then builds and
# runs the suites in a second make, so the Check flags are read after the install.
check:
	@sh tests/ensure-check.sh
	@$(MAKE) --no-print-directory check-run

check-run: all $(TEST_BINS)
	@TOOLKIT_BIN=$(BINDIR) sh tests/run-suites.sh $(TEST_BINS)

# The lecture demo is the swarm (mk/swarm.mk); the socket demo of the first lectures is demo-sockets.
demo: demo-swarm

demo-sockets: all
	@sh demo/sockets.sh $(BINDIR)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf bin build

# Larger parts of the interface (labs, slides, interop, benchmarks, fuzzing) live in mk/*.mk, one file
# each, so this file stays readable.
-include $(wildcard mk/*.mk)

-include $(shell find build -name '*.d' 2>/dev/null)
