# migdir - PostgreSQL migrations from a folder of SQL files, moved in git.
#
#   make                 build ./migdir
#   make check           every test, against a throwaway PostgreSQL it starts
#   make SANITIZE=address,undefined check     the same under ASan + UBSan
#   make lint            clang-format, cppcheck, clang-tidy, include rules
#   make coverage        line coverage per module (gcov)
#   make fuzz            libFuzzer targets in build/fuzz (clang); bench/fuzz runs them
#   make demo            walk the sample through status/apply/rollback
#   make install         PREFIX=/usr/local, DESTDIR honoured

VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man

CC         ?= cc
OPT        ?= -O2 -g
WERROR     ?= -Werror
BUILD      ?= build

PG_QUERY_A := $(firstword $(wildcard /usr/lib/*/libpg_query.a /usr/lib/libpg_query.a /usr/local/lib/libpg_query.a))
GIT2_LIBDIR := $(shell pkg-config --variable=libdir libgit2 2>/dev/null)
GIT2_SONAME := $(shell objdump -p $(GIT2_LIBDIR)/libgit2.so 2>/dev/null | awk '/SONAME/ {print $$2}')
PQ_LIBDIR  := $(shell pkg-config --variable=libdir libpq 2>/dev/null)
PQ_SONAME  := $(shell objdump -p $(PQ_LIBDIR)/libpq.so 2>/dev/null | awk '/SONAME/ {print $$2}')

WARN       := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wvla \
              -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
MG_CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -pthread -Iinclude -MMD -MP $(WARN) \
              $(shell pkg-config --cflags libpq libgit2 jansson inih) \
              -DMIGDIR_VERSION='"$(VERSION)"' \
              -DLIBGIT2_SONAME='"$(GIT2_SONAME)"' -DLIBPQ_SONAME='"$(PQ_SONAME)"'
MG_LDLIBS  := $(PG_QUERY_A) $(shell pkg-config --libs jansson inih) -ldl -pthread

ifdef SANITIZE
BUILD      := build/san
OPT        := -O1 -g
MG_CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
MG_LDFLAGS += -fsanitize=$(SANITIZE)
endif
ifdef COVERAGE
BUILD      := build/cov
OPT        := -O0 -g
MG_CFLAGS  += --coverage
MG_LDFLAGS += --coverage
endif

CFLAGS_ALL = $(MG_CFLAGS) $(OPT) $(CFLAGS)
LDFLAGS_ALL = $(MG_LDFLAGS) $(LDFLAGS)

# The modules, one job each; cmd_*.c are the commands.
LIB_SRCS := src/buf.c src/xalloc.c src/error.c src/report.c src/name.c \
            src/scan.c src/rows.c src/config.c src/sql.c src/db.c \
            src/vcs.c src/dl.c src/fsutil.c src/plan.c src/state.c src/run.c \
            src/lint.c src/risk.c src/proc.c src/pgtool.c src/schema.c src/scratch.c src/backup.c src/par.c
CMD_SRCS := src/cmd.c src/cmd_run.c src/cmd_init.c src/cmd_new.c src/cmd_status.c \
            src/cmd_plan.c src/cmd_apply.c src/cmd_rollback.c \
            src/cmd_repair.c src/cmd_check.c src/cmd_consolidate.c src/cmd_version.c src/cmd_help.c \
            src/cmd_baseline.c src/cmd_rehearse.c
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:src/%.c=$(BUILD)/%.o)

# migdir itself has no fault points; the test build does (include/fault.h).
BIN       := $(if $(filter build,$(BUILD)),migdir,$(BUILD)/migdir)
FAULT_BIN := $(BUILD)/migdir-faults

all: $(BIN)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/fault-on.o: src/fault.c | $(BUILD)
	$(CC) $(CFLAGS_ALL) -DMIGDIR_FAULTS=1 -c -o $@ $<

$(BUILD)/main.o: src/main.c | $(BUILD)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BIN): $(BUILD)/main.o $(CMD_OBJS) $(LIB_OBJS) $(BUILD)/fault.o
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(MG_LDLIBS)

# A fault point without a row in tests/faults.tbl fails the build.
$(FAULT_BIN): $(BUILD)/main.o $(CMD_OBJS) $(LIB_OBJS) $(BUILD)/fault-on.o tests/faults.tbl
	@scripts/check-faults.sh
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(MG_LDLIBS)

$(BUILD):
	mkdir -p $(BUILD)

-include $(wildcard $(BUILD)/*.d)

include tests/tests.mk
include tests/fuzz/fuzz.mk

install: $(BIN)
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(MANDIR)/man1' '$(DESTDIR)$(MANDIR)/man5'
	install -m 755 $(BIN) '$(DESTDIR)$(BINDIR)/migdir'
	install -m 644 man/*.1 '$(DESTDIR)$(MANDIR)/man1/'
	install -m 644 man/*.5 '$(DESTDIR)$(MANDIR)/man5/'

uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/migdir'
	for f in man/*.1; do rm -f "$(DESTDIR)$(MANDIR)/man1/$${f##*/}"; done
	for f in man/*.5; do rm -f "$(DESTDIR)$(MANDIR)/man5/$${f##*/}"; done

clean:
	rm -rf build migdir

.PHONY: all install uninstall clean

# ------------------------------------------------------------ extras ---

# The demo: packages, build, throwaway PostgreSQL, the sample walked through.
demo:
	scripts/deps.sh
	$(MAKE) migdir
	scripts/demo.sh

# Lint: layout, static analysis, the one-include-site rule of STYLE.md, and
# man pages that render without a warning.
LINT_SRCS = $(wildcard src/*.c include/*.h tests/unit/*.c tests/integration/*.[ch] tests/lib/*.[ch] tests/fuzz/*.[ch])
lint:
	clang-format --dry-run -Werror $(LINT_SRCS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --std=c11 -D_POSIX_C_SOURCE=200809L -DMIGDIR_VERSION='"x"' \
	    -Iinclude --suppress=missingIncludeSystem \
	    --library=scripts/cppcheck-jansson.cfg src
	printf '%s\n' $(wildcard src/*.c) | xargs -P2 -I{} \
	    clang-tidy --quiet {} -- $(filter-out -MMD -MP -DMIGDIR_VERSION=% -DLIBGIT2_SONAME=% -DLIBPQ_SONAME=%,$(MG_CFLAGS)) \
	    -DMIGDIR_VERSION='"x"' -DLIBGIT2_SONAME='"x"' -DLIBPQ_SONAME='"x"'
	scripts/check-includes.sh
	scripts/check-man.sh

# Line coverage per module (gcov), from the whole suite.
coverage:
	$(MAKE) COVERAGE=1 check
	@scripts/coverage.sh build/cov

# Every main command under valgrind: no leak, no error.
check-valgrind: $(BIN)
	@$(TEST_ENV) scripts/valgrind.sh $(abspath $(BIN))

# Benchmarks against psql and the peers (see bench/README.md).
BENCH_PGDIR ?= $(if $(wildcard /dev/shm),/dev/shm/migdir-bench-pg,/tmp/migdir-bench-pg)
bench: $(BIN)
	MIGDIR=$(abspath $(BIN)) PGDIR=$(BENCH_PGDIR) bench/run.sh 100
	MIGDIR=$(abspath $(BIN)) PGDIR=$(BENCH_PGDIR) bench/run.sh 1000

.PHONY: demo lint coverage check-valgrind bench
