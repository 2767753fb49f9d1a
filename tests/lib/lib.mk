# lib.mk - the test-harness libraries (tests/lib), for inclusion by the
# top-level Makefile.
#
#   TESTLIB_SRCS      sources to compile into each test program
#   TESTLIB_HDRS      their headers (for dependencies)
#   TESTLIB_CPPFLAGS  what a test program needs to include them
#   TESTLIB_CFLAGS    compiler flags for test programs: the including
#                     Makefile's CFLAGS_ALL if it has one (so SANITIZE and
#                     COVERAGE builds carry over), else CPPFLAGS CFLAGS;
#                     -MMD/-MP are dropped (one command builds and links)
#   TESTLIB_LDFLAGS   likewise LDFLAGS_ALL, else LDFLAGS
#   tests/lib/selftest, testlib-check   build / run the libraries' self-test
#
# Test programs are built straight from the sources (no shared objects),
# so they always get the flags of the build at hand, sanitizers included.
# Including this file does not change the default goal.

TESTLIB_SAVED_GOAL := $(.DEFAULT_GOAL)

TESTLIB_SRCS := tests/lib/pgcluster.c tests/lib/testutil.c tests/lib/gitrepo.c
TESTLIB_HDRS := tests/lib/pgcluster.h tests/lib/testutil.h \
    tests/lib/gitrepo.h include/banned.h
TESTLIB_CPPFLAGS := -Itests/lib
TESTLIB_CLEAN := tests/lib/selftest

TESTLIB_CFLAGS = $(filter-out -MMD -MP,$(or $(CFLAGS_ALL),$(CPPFLAGS) \
    $(CFLAGS)))
TESTLIB_LDFLAGS = $(or $(LDFLAGS_ALL),$(LDFLAGS))

tests/lib/selftest: tests/lib/selftest.c $(TESTLIB_SRCS) $(TESTLIB_HDRS)
	$(CC) $(TESTLIB_CPPFLAGS) $(TESTLIB_CFLAGS) -o $@ \
	    tests/lib/selftest.c $(TESTLIB_SRCS) $(TESTLIB_LDFLAGS) \
	    -lcmocka $(LDLIBS)

.PHONY: testlib-check
testlib-check: tests/lib/selftest
	./tests/lib/selftest

.DEFAULT_GOAL := $(TESTLIB_SAVED_GOAL)
