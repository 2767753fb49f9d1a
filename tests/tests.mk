# tests.mk - the test suite (included by the top-level Makefile).
#
#   make check              check-unit, check-integration, check-cli
#   make check-unit         one cmocka binary per pure module
#   make check-integration  cmocka binaries against a real PostgreSQL each
#                           test run starts itself, and real git repositories
#   make check-cli          end-to-end CLI scripts diffed against expected output
#
# Test binaries go to $(BUILD)/tests, so SANITIZE= and COVERAGE= builds
# keep theirs apart.  Integration tests find the binaries to run through
# MIGDIR_BIN and MIGDIR_FAULT_BIN.

include tests/lib/lib.mk

UNIT_TESTS  := buf name scan config sql plan fsutil lint risk proc backup schema report
INTEG_TESTS := db vcs apply rollback crash faults concurrency corpora consolidate baseline \
               rehearse hostile server races secrets

UNIT_BINS   := $(UNIT_TESTS:%=$(BUILD)/tests/test_%)
INTEG_BINS  := $(INTEG_TESTS:%=$(BUILD)/tests/test_%)
TESTLIB_OBJS := $(TESTLIB_SRCS:tests/lib/%.c=$(BUILD)/tests/lib_%.o)

TEST_CFLAGS = $(CFLAGS_ALL) -Itests/lib -Wno-missing-prototypes
TEST_LIBS   = $(LIB_OBJS) $(BUILD)/fault.o

$(BUILD)/tests:
	mkdir -p $@

$(TESTLIB_OBJS): $(BUILD)/tests/lib_%.o: tests/lib/%.c | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(UNIT_BINS): $(BUILD)/tests/test_%: tests/unit/test_%.c $(TEST_LIBS) $(TESTLIB_OBJS) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LIBS) $(TESTLIB_OBJS) $(LDFLAGS_ALL) $(MG_LDLIBS) -lcmocka

$(INTEG_BINS): $(BUILD)/tests/test_%: tests/integration/test_%.c tests/integration/scenario.c tests/integration/scenario.h $(TEST_LIBS) $(TESTLIB_OBJS) | $(BUILD)/tests
	$(CC) $(TEST_CFLAGS) -Itests/integration -o $@ $< tests/integration/scenario.c $(TEST_LIBS) $(TESTLIB_OBJS) $(LDFLAGS_ALL) $(MG_LDLIBS) -lcmocka

-include $(wildcard $(BUILD)/tests/*.d)

TEST_ENV = MIGDIR_BIN=$(abspath $(BIN)) MIGDIR_FAULT_BIN=$(abspath $(FAULT_BIN)) \
	   MIGDIR_SOURCE=$(abspath .) TZ=UTC LC_ALL=C.UTF-8 NO_COLOR=1

# make check installs what is missing first (scripts/deps.sh), then runs
# the suite in a fresh make, so that pkg-config sees the new packages.
check:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory check-unit check-slow

# The integration binaries and the CLI scripts each start their own
# cluster in their own directory, so they run side by side, one per core
# (scripts/run-tests.sh; TEST_JOBS=1 runs them one at a time), the
# longest first.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SLOW_FIRST := rehearse races secrets faults baseline consolidate hostile server crash apply corpora rollback db
INTEG_ORDER := $(addprefix $(BUILD)/tests/test_,$(SLOW_FIRST)) \
	       $(filter-out $(addprefix $(BUILD)/tests/test_,$(SLOW_FIRST)),$(INTEG_BINS))

check-unit: $(UNIT_BINS)
	@scripts/check-includes.sh
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $(TEST_ENV) ./$$t; done

check-integration: $(BIN) $(FAULT_BIN) $(INTEG_BINS)
	@$(TEST_ENV) scripts/run-tests.sh -j $(TEST_JOBS) $(INTEG_ORDER)

check-cli: $(BIN) $(FAULT_BIN)
	@$(TEST_ENV) tests/cli/run.sh

check-slow: $(BIN) $(FAULT_BIN) $(INTEG_BINS)
	@$(TEST_ENV) scripts/run-tests.sh -j $(TEST_JOBS) $(firstword $(INTEG_ORDER)) \
	    tests/cli/run.sh $(wordlist 2,100,$(INTEG_ORDER))

.PHONY: check check-unit check-integration check-cli check-slow
