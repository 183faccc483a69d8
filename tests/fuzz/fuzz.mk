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
FUZZ_HDRS     := $(wildcard base/*.h proto/*.h sim/*.h sim/recog/*.h conformance/*.h)

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

$(FUZZ_BUILD)/%.o: %.c $(FUZZ_HDRS) | fuzz-tools
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_WARN) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/conformance/version.o: $(BUILD)/build_version.h

$(FUZZ_BUILD)/libcamsim.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_HDRS) | fuzz-tools
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(WARN) $(FUZZ_CFLAGS) -c $< -o $@

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

$(BUILD)/tests/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/fuzz $(WARN) $(CFLAGS) \
	    -DLLVMFuzzerTestOneInput=fuzz_$*_one -c $< -o $@

$(BUILD)/tests/check_fuzz: tests/check_fuzz.c $(wildcard tests/*.h) $(FUZZ_CHECK_OBJ) $(BUILD)/libcamsim.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests -Itests/fuzz $(WARN) $(CFLAGS) $< \
	    $(FUZZ_CHECK_OBJ) $(BUILD)/libcamsim.a $(LDLIBS) $(CHECK_LIBS) -o $@
