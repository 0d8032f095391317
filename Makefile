# kharon — GNU make, pkg-config only, one build tree per flavour.
#
#   make            build build/kharon (flavour "default": -O2 -g; build/kharon
#                   always links to build/default/kharon, whatever FLAVOUR)
#   make test       install what is missing (make deps), build, run every test
#   make asan       the unit tests under ASan + UBSan (LSan on)
#   make tsan       the threaded stress tests under TSan
#   make bench      kharon vs Tarantool 2.6, table and plots (QUICK=1: a check)
#   make soak       mixed load for SECONDS (600) on real threads, one table
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS (60) each (clang)
#   make fuzz-smoke replay the fuzz seed corpora only (seconds)
#   make deps       install the Debian packages the project needs
#   make clean
#
# Sources are found by wildcard: a new file in src/<layer>/ or tests/unit/
# needs no edit here.

FLAVOUR ?= default
B       := build/$(FLAVOUR)
CC      ?= gcc

PKGS      := libcjson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) msgpack 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lpthread -lm
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null)
# msgpack-c: the independent oracle of our MsgPack codec, linked only into
# the unit tests and the fuzz targets (tests/fuzz/mp_oracle.h).
ORACLE_LIBS := $(shell pkg-config --libs msgpack 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wold-style-definition -Wwrite-strings
ifeq ($(CI),true)
WARN += -Werror
endif

OPT_default := -O2 -g
OPT_asan    := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT_tsan    := -O1 -g -fsanitize=thread
OPT_fuzz    := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT         := $(OPT_$(FLAVOUR))

CPPFLAGS += -D_GNU_SOURCE -Isrc -MMD -MP
CFLAGS   += -std=c11 $(OPT) $(PKG_CFLAGS)
LDFLAGS  += $(OPT)

LIB_SRC  := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
TSAN_SRC := $(wildcard tests/tsan/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o)
LIB      := $(B)/libkharon.a
KHARON   := $(B)/kharon
UNIT     := $(B)/tests/unit_tests
TSAN_BIN := $(TSAN_SRC:tests/tsan/%.c=$(B)/tests/tsan/%)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tests/tools/%)

.PHONY: all test unit asan tsan bench deps clean golden build/kharon
# build/kharon (the README's commands) is always the default build: other
# flavours never touch it. Phony, so a link left pointing elsewhere is fixed.
ifeq ($(FLAVOUR),default)
LINK := build/kharon
endif
all: $(KHARON) $(LINK)

build/kharon: build/default/kharon
	@ln -sfn default/kharon $@

$(B)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c $< -o $@

# Criterion's macros are not -Wpedantic clean; tests keep the rest.
$(B)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wall -Wextra -Wshadow $(if $(filter true,$(CI)),-Werror) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(KHARON): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS)

$(UNIT): $(UNIT_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(LIB) $(CRIT_LIBS) $(PKG_LIBS) $(ORACLE_LIBS)

$(B)/tests/tsan/%: tests/tsan/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LIB) $(PKG_LIBS)

# Helper programs of the test suites (plain C, may use the library).
$(B)/tests/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LIB) $(PKG_LIBS)

unit: $(UNIT) $(KHARON) $(LINK) $(TSAN_BIN) $(TOOL_BIN)

# The test command of the README. Ends with "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory unit
	@B=$(B) bash tests/run.sh

asan:
	@$(MAKE) --no-print-directory FLAVOUR=asan unit
	@B=build/asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 bash tests/run.sh

# Criterion aborts at start under TSan, so only tests/tsan/ runs here.
tsan:
	@$(MAKE) --no-print-directory FLAVOUR=tsan $(TSAN_SRC:tests/tsan/%.c=build/tsan/tests/tsan/%)
	@B=build/tsan TSAN_OPTIONS=halt_on_error=1 bash tests/run.sh tsan

# kharon vs Tarantool into bench/results.md, .csv, push.svg, calls.svg
# (figures, never pass/fail): bench/run.sh. QUICK=1: one short round, to
# check the tooling.
QUICK ?= 0
bench: deps $(KHARON)
	@B=$(B) QUICK=$(QUICK) bash bench/run.sh

# Mixed load on real threads for SECONDS (default 600): bench/soak.sh.
SECONDS ?= 600
.PHONY: soak
soak: deps unit
	@B=$(B) SOAK_SECONDS=$(SECONDS) bash bench/soak.sh

# Rewrite tests/golden/*.jsonl from the scenarios (review the diff!).
golden: $(KHARON)
	@B=$(B) bash tests/golden/make.sh

deps:
	@bash tools/deps.sh

clean:
	rm -rf build

# ---- fuzzing: tests/fuzz/README.md -------------------------------------
# Flavour "fuzz" (OPT_fuzz above): clang, the project compiled with coverage
# (fuzzer-no-link) and ASan + UBSan; each tests/fuzz/fuzz_*.c links
# libFuzzer's main.
FUZZ_CC      ?= $(firstword $(shell command -v clang-14 clang 2>/dev/null))
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/tests/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: fuzz fuzz-build fuzz-smoke

$(B)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h tests/fuzz/mp_oracle.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fsanitize=fuzzer -o $@ $< $(LIB) $(PKG_LIBS) $(ORACLE_LIBS)

fuzz-build:
	@test -n "$(FUZZ_CC)" || { echo "fuzz: clang not found (make deps)" >&2; exit 1; }
	@$(MAKE) --no-print-directory FLAVOUR=fuzz CC=$(FUZZ_CC) $(FUZZ_BIN)

# Each target for FUZZ_SECONDS from its seed corpus; new inputs and crash
# artifacts go to build/fuzz/, never into tests/fuzz/.
fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh long

# Replay every seed input once (what tests/suites/fuzz_smoke.sh runs).
fuzz-smoke: fuzz-build
	@bash tests/fuzz/run.sh smoke

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
