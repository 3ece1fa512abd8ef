# Lecture slides: slides/src/*.md -> slides/*.html (checked in), built by our own generator.
#
#   make slides          regenerate every deck and slides/index.html from the sources
#   make slides-check    regenerate, then fail if a checked-in deck differs (CI's freshness check)
#   make slides-plot     measure the distribution-time figure with `minitorrent swarm` (slow; only
#                        on demand: the measurement is excluded from the freshness check, the
#                        figure drawn from it is not)
#
# The generator is one C file, built with the plain toolkit flags whatever SANITIZE says, because
# it is a build tool and its output must not depend on the variant. So is chokeline, which runs
# the real choker (minitorrent/core/choker.c, rate.c) on a fake clock and draws deck 6's choking
# timeline; `make slides` redraws it before the decks, so the figure always shows what the code
# does, and slides-check fails when a change to the choker changes it.

SLIDEGEN := build/tools/slidegen
CHOKELINE := build/tools/chokeline
# slidegen checks every bencoded example on a slide with the toolkit's own decoder and metainfo
# parser, so it links them.
SLIDEGEN_SRC := tools/slides/slidegen.c minitorrent/core/bencode.c minitorrent/core/metainfo.c \
                minitorrent/core/sha1.c minitorrent/core/sha1_ni.c
CHOKELINE_SRC := tools/slides/chokeline.c minitorrent/core/choker.c minitorrent/core/rate.c
# distplot draws deck 4's distribution-time figure and table from the measurement, with the
# toolkit's own bounds (bound.c) and chart writer (svgplot.c).
DISTPLOT := build/tools/distplot
DISTPLOT_SRC := tools/slides/distplot.c minitorrent/core/bound.c minitorrent/core/svgplot.c
SLIDE_SRC := $(sort $(wildcard slides/src/*.md))
SLIDE_TIMELINE := slides/figures/choking-timeline.svg
# The measurement behind deck 4's figure (what `minitorrent swarm --json` writes); distplot turns
# it into the figure's two panels and the table of numbers.
SLIDE_PLOT := slides/figures/distribution-time.json
SLIDE_PLOT_OUT := slides/figures/distribution-time-p2p.svg slides/figures/distribution-time-cs.svg \
                  slides/figures/distribution-time.txt
# The defaults (a 4 MiB file in 64 KiB pieces, u_s = 1 MiB/s, u_i = 512 KiB/s) keep the whole
# measurement near 5 minutes on a loaded 2-core machine: the 32-peer client-server run alone
# takes 128 s by the bound, and the P2P runs about 5-15 s each.
SLIDE_PLOT_CMD := minitorrent swarm --peers 2,4,8,16,32 --plain --json

.PHONY: slides slides-check slides-plot

$(SLIDEGEN): $(SLIDEGEN_SRC) minitorrent/core/bencode.h minitorrent/core/metainfo.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -D_POSIX_C_SOURCE=200809L -Iminitorrent/core $(CFLAGS) -o $@ \
	  $(SLIDEGEN_SRC)

$(CHOKELINE): $(CHOKELINE_SRC) minitorrent/core/choker.h minitorrent/core/rate.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -D_POSIX_C_SOURCE=200809L -Iminitorrent/core $(CFLAGS) -o $@ \
	  $(CHOKELINE_SRC)

$(DISTPLOT): $(DISTPLOT_SRC) minitorrent/core/bound.h minitorrent/core/svgplot.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g -D_POSIX_C_SOURCE=200809L -Iminitorrent/core $(CFLAGS) -o $@ \
	  $(DISTPLOT_SRC)

slides: $(SLIDEGEN) $(CHOKELINE) $(DISTPLOT)
	@mkdir -p $(dir $(SLIDE_TIMELINE))
	@$(CHOKELINE) > $(SLIDE_TIMELINE).tmp && mv $(SLIDE_TIMELINE).tmp $(SLIDE_TIMELINE)
	@$(DISTPLOT) $(SLIDE_PLOT) $(dir $(SLIDE_PLOT))
	@$(SLIDEGEN) --root . --slides slides --assets tools/slides --out slides $(SLIDE_SRC)

# Regenerates and compares with what git has. New decks that were never added count as a
# difference too. The measurement itself is left out: only `make slides-plot` changes it.
slides-check: slides
	@git diff --exit-code --stat -- slides ':(exclude)$(SLIDE_PLOT)' || { \
	  echo "slides-check: the checked-in decks differ from what the sources generate;"; \
	  echo "slides-check: run 'make slides' and commit slides/."; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- 'slides/*.html' $(SLIDE_TIMELINE) \
	  $(SLIDE_PLOT_OUT)); \
	if [ -n "$$untracked" ]; then \
	  echo "slides-check: generated files not in git: $$untracked"; exit 1; fi
	@echo "slides-check: every deck is up to date with its sources"

# The new measurement replaces the checked-in one only once distplot accepts it: a D below its
# bound leaves the old one, and the decks, as they were.
slides-plot: all $(DISTPLOT)
	@if [ -x $(BINDIR)/minitorrent ] && $(BINDIR)/minitorrent swarm --help >/dev/null 2>&1; then \
	  echo "slides-plot: $(SLIDE_PLOT_CMD) $(SLIDE_PLOT)"; \
	  tmpd=$$(mktemp -d) && \
	  $(BINDIR)/$(SLIDE_PLOT_CMD) $$tmpd/m.json && $(DISTPLOT) $$tmpd/m.json $$tmpd && \
	  mv $$tmpd/m.json $(SLIDE_PLOT) && rm -rf $$tmpd && \
	  $(MAKE) --no-print-directory slides; \
	else \
	  echo "slides-plot: needs '$(SLIDE_PLOT_CMD)', and $(BINDIR)/minitorrent has no swarm command yet;"; \
	  echo "slides-plot: the distribution-time deck shows a placeholder until then."; \
	fi

# The browser test runs the generators to check the checked-in decks and timeline are fresh.
$(TESTDIR)/check_slides: | $(SLIDEGEN) $(CHOKELINE) $(DISTPLOT)
