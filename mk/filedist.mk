# Lab 4's client-server file distribution programs (filedist/), built next to the others.
#
#   make filedist        build bin/filedist_server and bin/filedist_client
#   make run-filedist    a server with u_s = 1 MiB/s and N = 1, 2 and 4 clients of a 1 MiB file:
#                        D against N*F/u_s (FILEDIST_SIZE, FILEDIST_RATE, FILEDIST_CLIENTS change it)
#
# The top-level Makefile's program list does not know filedist/ yet, so this file adds its
# programs to `all` and its library files to the toolkit's archive (which the tests link).

FILEDIST_PROGRAMS := filedist_server filedist_client
FILEDIST_LIB_SRC := filedist/fdproto.c filedist/fdtransfer.c
FILEDIST_SIZE ?= 1M
FILEDIST_RATE ?= 1M
FILEDIST_CLIENTS ?= 1 2 4

.PHONY: filedist run-filedist
all: $(FILEDIST_PROGRAMS:%=$(BINDIR)/%)
filedist: $(FILEDIST_PROGRAMS:%=$(BINDIR)/%)

$(LIB): $(FILEDIST_LIB_SRC:%.c=$(OBJDIR)/%.o)

$(OBJDIR)/filedist/%.o: filedist/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ifiledist -c $< -o $@

$(FILEDIST_PROGRAMS:%=$(BINDIR)/%): $(BINDIR)/%: $(OBJDIR)/filedist/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_TK)

run-filedist: $(FILEDIST_PROGRAMS:%=$(BINDIR)/%)
	@sh filedist/run.sh $(BINDIR) $(FILEDIST_SIZE) $(FILEDIST_RATE) $(FILEDIST_CLIENTS)

# The test of filedist includes its headers.
$(OBJDIR)/tests/check_filedist.o: CPPFLAGS += -Ifiledist
