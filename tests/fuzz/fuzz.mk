# tests/fuzz/fuzz.mk -- libFuzzer harnesses (included from the Makefile).
# The library is compiled again with clang into its own tree $(FUZZ_BUILD)
# (coverage instrumentation + ASan + UBSan), with the Makefile's CPPFLAGS
# and LDLIBS, so packages added to PKGS reach the fuzz build too.  The
# normal build compiles the same harnesses into tests/check_fuzz, which
# replays the corpora (docs/fuzzing.md).

FUZZ_TARGETS  := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BUILD    ?= build/fuzz
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)
# clang's own warnings on library code are not gcc's: -Werror stays with the
# gcc build, which is the gate; the harnesses keep it.
FUZZ_WARN     := $(filter-out -Werror,$(WARN))
FUZZ_LIB_OBJ  := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BIN      := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# The clang tree has its own flags stamp (the Makefile's FLAGS_STAMP idea).
FUZZ_STAMP    := $(FUZZ_BUILD)/flags.stamp
FUZZ_FLAGS_LINE := $(FUZZ_CC) | $(CPPFLAGS) | $(FUZZ_WARN) | $(WARN) | $(FUZZ_CFLAGS) | \
		   $(DEPFLAGS) | $(INC_BASE) | $(INC_PROTO) | $(INC_RECOG) | $(INC_SIM) | $(INC_CONF) | $(INC_ALL)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-tools

# Loud, never a silent skip: without clang and libFuzzer there is no fuzzing.
fuzz-tools:
	@mkdir -p $(FUZZ_BUILD)
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	    echo "make fuzz: FAILED: $(FUZZ_CC) not found; 'make deps' installs" \
	         "clang and libclang-rt-dev (libFuzzer)" >&2; exit 1; }
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	    > $(FUZZ_BUILD)/probe.c
	@$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $(FUZZ_BUILD)/probe.c \
	    -o $(FUZZ_BUILD)/probe 2>$(FUZZ_BUILD)/probe.log || { \
	    cat $(FUZZ_BUILD)/probe.log >&2; \
	    echo "make fuzz: FAILED: $(FUZZ_CC) cannot link -fsanitize=fuzzer" \
	         "(libFuzzer missing); 'make deps' installs libclang-rt-dev" >&2; \
	    exit 1; }

# Brought up to date as the Makefile's FLAGS_STAMP is, but only when a
# fuzz target is asked for (the gcc build does not make $(FUZZ_BUILD)).
ifneq ($(filter fuzz fuzz-smoke fuzz-build $(FUZZ_BUILD)/%,$(MAKECMDGOALS)),)
FUZZ_STAMP_OLD := $(file <$(FUZZ_STAMP))
ifneq ($(FUZZ_STAMP_OLD),$(FUZZ_FLAGS_LINE))
ifeq ($(DRY_RUN),)
$(shell mkdir -p $(FUZZ_BUILD))
$(file >$(FUZZ_STAMP),$(FUZZ_FLAGS_LINE))
else
$(FUZZ_STAMP): FORCE
endif
endif
endif
$(FUZZ_STAMP): ;

$(FUZZ_BUILD)/%.o: %.c $(FUZZ_STAMP) | fuzz-tools
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(call layer_inc,$<) $(FUZZ_WARN) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(FUZZ_BUILD)/conformance/version.o: $(BUILD)/build_version.h

$(FUZZ_BUILD)/libcamsim.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c $(FUZZ_STAMP) | fuzz-tools
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(INC_ALL) $(WARN) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libcamsim.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $^ $(LDLIBS) -o $@

fuzz-build: $(FUZZ_BIN)

# kept, so that a second `make fuzz' links nothing again
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o)

# Every harness for FUZZ_SECONDS on its corpus; fails naming each crash.
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The same, briefly: part of `make test'.
fuzz-smoke: deps
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# The replay suite links the same harnesses, each entry point renamed.
FUZZ_CHECK_OBJ := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.o)

$(BUILD)/tests/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(INC_ALL) $(WARN) $(CFLAGS) $(DEPFLAGS) \
	    -DLLVMFuzzerTestOneInput=fuzz_$*_one -c $< -o $@

# linked by the Makefile's rule for every test binary
$(BUILD)/tests/check_fuzz: $(FUZZ_CHECK_OBJ)

-include $(FUZZ_CHECK_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d) \
	 $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.d)
