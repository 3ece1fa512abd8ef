# The socket demo's lossy UDP relay (demo/lossy_relay.c), which `make demo-sockets` (its recipe
# is in the Makefile: sh demo/sockets.sh) runs between the UDP client and server to show loss
# and retry. A demo tool, built like the slide tools with the plain toolkit flags whatever
# SANITIZE says, into build/tools/ where demo/sockets.sh looks for it.

LOSSY_RELAY := build/tools/lossy_relay

$(LOSSY_RELAY): demo/lossy_relay.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -D_POSIX_C_SOURCE=200809L $(CFLAGS) -o $@ $<

demo-sockets: $(LOSSY_RELAY)

# The demo's test runs demo/sockets.sh, which needs the relay.
$(TESTDIR)/check_demo_sockets: | $(LOSSY_RELAY)
