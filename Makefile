# kharon — GNU make, pkg-config only, one build tree per flavour.
#
#   make            build build/kharon (flavour "default": -O2 -g)
#   make test       install what is missing (make deps), build, run every test
#   make asan       the unit tests under ASan + UBSan (LSan on)
#   make tsan       the threaded stress tests under TSan
#   make bench      the benchmarks (figures, not pass/fail)
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

PKGS      := msgpack libcjson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lpthread -lm
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null)
# The viewer only: SDL is linked into kharon-view, never into libkharon.
SDL_PKGS   := sdl2 SDL2_ttf SDL2_image
SDL_CFLAGS := $(shell pkg-config --cflags $(SDL_PKGS) 2>/dev/null)
SDL_LIBS   := $(shell pkg-config --libs $(SDL_PKGS) 2>/dev/null) -lgif

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

CPPFLAGS += -D_GNU_SOURCE -Isrc -I. -MMD -MP
CFLAGS   += -std=c11 $(OPT) $(PKG_CFLAGS)
LDFLAGS  += $(OPT)

LIB_SRC  := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
TSAN_SRC := $(wildcard tests/tsan/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
# viz/: the pure part (model .. display list) is unit-tested without SDL;
# gif.c (giflib), draw_*.c (SDL, the only files including it) and main.c
# make the kharon-view binary.
VIZ_APP_SRC  := viz/main.c viz/gif.c $(wildcard viz/draw*.c)
VIZ_CORE_SRC := $(filter-out $(VIZ_APP_SRC),$(wildcard viz/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o)
VIZ_CORE_OBJ := $(VIZ_CORE_SRC:%.c=$(B)/%.o)
VIZ_APP_OBJ  := $(filter %.o,$(VIZ_APP_SRC:%.c=$(B)/%.o))
LIB      := $(B)/libkharon.a
KHARON   := $(B)/kharon
VIEW     := $(B)/kharon-view
UNIT     := $(B)/tests/unit_tests
TSAN_BIN := $(TSAN_SRC:tests/tsan/%.c=$(B)/tests/tsan/%)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tests/tools/%)

.PHONY: all test unit asan tsan bench deps clean golden
VIEW_ALL := $(if $(wildcard viz/main.c),$(VIEW) build/kharon-view)
all: $(KHARON) build/kharon $(VIEW_ALL)

build/kharon: $(KHARON)
	@ln -sf $(FLAVOUR)/kharon $@

build/kharon-view: $(VIEW)
	@ln -sf $(FLAVOUR)/kharon-view $@

$(B)/viz/draw%.o: viz/draw%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SDL_CFLAGS) $(WARN) -c $< -o $@

$(B)/viz/%.o: viz/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c $< -o $@

$(VIEW): $(VIZ_APP_OBJ) $(VIZ_CORE_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(VIZ_APP_OBJ) $(VIZ_CORE_OBJ) $(LIB) $(SDL_LIBS) $(PKG_LIBS)

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

$(UNIT): $(UNIT_OBJ) $(VIZ_CORE_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(VIZ_CORE_OBJ) $(LIB) $(CRIT_LIBS) $(PKG_LIBS)

$(B)/tests/tsan/%: tests/tsan/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LIB) $(PKG_LIBS)

# Helper programs of the test suites (plain C, may use the library).
$(B)/tests/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LIB) $(PKG_LIBS)

unit: $(UNIT) $(KHARON) $(VIEW_ALL) $(TSAN_BIN) $(TOOL_BIN)

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

# Every benchmark into bench/results.md (figures, never pass/fail).
bench: deps $(KHARON)
	@B=$(B) bash bench/run.sh

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

$(B)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fsanitize=fuzzer -o $@ $< $(LIB) $(PKG_LIBS)

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

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(VIZ_CORE_OBJ:.o=.d) $(VIZ_APP_OBJ:.o=.d)
