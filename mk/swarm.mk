# The swarm demo: `minitorrent swarm` measured against the Kurose & Ross bound (demo/swarm.sh).
#
#   make demo-swarm      watch a swarm of 8 leechers live (piece map, re-chokes, optimistic
#                        unchokes, a web view), then run P2P and client-server swarms of 2 and 8
#                        leechers, print D / bound, and write build/demo/distribution-time.svg
#                        (about a minute; it finishes by itself)
#   make experiments     run every `minitorrent experiment` with --quick and write their JSON
#                        and SVG into build/experiments
#
# The Makefile's `demo` target points here once the swarm demo is the lecture demo.

.PHONY: demo-swarm
demo-swarm: all
	@sh demo/swarm.sh $(BINDIR) build/demo

.PHONY: experiments
experiments: all
	@mkdir -p build/experiments
	@for e in scaling rarest-first tit-for-tat optimistic-unchoke churn; do \
	    $(BINDIR)/minitorrent experiment $$e --quick --json build/experiments/$$e.json \
	        --plot build/experiments/$$e.svg || exit 1; done
