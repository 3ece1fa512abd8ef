# The swarm demo: `minitorrent swarm` measured against the Kurose & Ross bound (demo/swarm.sh).
#
#   make demo-swarm      run P2P and client-server swarms of 2 and 8 leechers on loopback (about
#                        30 s, live view), print D / bound, and write build/demo/distribution-time.svg
#
# The Makefile's `demo` target points here once the swarm demo is the lecture demo.

.PHONY: demo-swarm
demo-swarm: all
	@sh demo/swarm.sh $(BINDIR) build/demo
