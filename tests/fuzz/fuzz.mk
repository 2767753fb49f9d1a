# fuzz.mk - libFuzzer targets (included by the top-level Makefile).
#
#   make fuzz       build/fuzz/fuzz_{name,config,sql,lint,json}
#   bench/fuzz      run them (bench/README.md, "Fuzzing")
#
# clang only.  The library is compiled again with
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/obj, so
# nothing mixes with the normal build; each target links libFuzzer's main.

FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_TARGETS := name config sql lint json
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(MG_CFLAGS) -O1 -g $(FUZZ_SAN) -Itests/fuzz
FUZZ_OBJS    := $(LIB_SRCS:src/%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/fault.o
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: $(FUZZ_BINS)

$(FUZZ_DIR)/obj:
	mkdir -p $@

$(FUZZ_DIR)/obj/%.o: src/%.c | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# The config target asks the real libpq whether a redacted string still
# holds a password (tests only: src/ reaches libpq through db.c alone).
$(FUZZ_DIR)/fuzz_config: FUZZ_EXTRA = -lpq
$(FUZZ_BINS): $(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-missing-prototypes -fsanitize=fuzzer \
	    -o $@ $< $(FUZZ_OBJS) $(MG_LDLIBS) $(FUZZ_EXTRA)

-include $(wildcard $(FUZZ_DIR)/obj/*.d $(FUZZ_DIR)/*.d)

.PHONY: fuzz
