# The lab handouts (labs/labN-*/), generated from the reference sources by tools/labgen.
#
#   make handouts        regenerate labs/ from the sources (each lab's README.md is kept)
#   make handouts-check  regenerate, then fail if labs/ differs from what git has (CI runs this)
#   make labs-check      the meta-tests alone, one line per lab: the starter builds with -Werror,
#                        scores 0 and passes the earlier labs' tests; the solution scores every
#                        point; then each mutant (tools/labgen/mutants/labN/*.patch, a typical
#                        student mistake) must lose points: "labN mutants: K of K caught"
#   make labN            build and grade lab N in its folder, as a student or the autograder would
#   make student-kit LAB=N   dist/labN-NAME.tar.gz: lab N's folder as a student receives it
#   make autograder LAB=N    dist/labN-NAME-autograder.zip: a Gradescope autograder for lab N

LABGEN := sh tools/labgen/labgen.sh
LAB_NUMBERS := $(shell awk '$$1 == "lab" { print $$2 }' tools/labgen/labs.conf 2>/dev/null)

.PHONY: handouts handouts-check labs-check student-kit autograder $(LAB_NUMBERS:%=lab%)

handouts:
	@$(LABGEN) handouts

handouts-check: handouts
	@if git diff --quiet -- labs/ && [ -z "$$(git ls-files --others --exclude-standard -- labs/)" ]; \
	then echo "handouts-check: labs/ matches the sources"; \
	else git status --short -- labs/; \
	     echo "handouts-check: labs/ is out of date: run make handouts and commit labs/"; exit 1; fi

labs-check:
	@sh tools/labgen/metatest.sh $(LAB_NUMBERS)

DIST ?= dist
student-kit autograder:
	@test -n "$(LAB)" || { echo "usage: make $@ LAB=N (N is one of: $(LAB_NUMBERS))"; exit 2; }
	@sh tools/labgen/kit.sh $@ $(LAB) $(DIST)

$(LAB_NUMBERS:%=lab%): lab%:
	@$(MAKE) --no-print-directory -C labs/$$($(LABGEN) get $* folder) grade
