# Spawning build. `make` builds build/; `make test` installs what it needs,
# builds, and runs every test (unit, bats, then the same under ASan/UBSan).

PYTHON_CONFIG ?= /usr/bin/python3-config
PYTHON ?= /usr/bin/python3
BUILD ?= build
CC ?= cc
SANITIZE ?=

WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS_COMMON := -std=gnu11 $(WARN) -g -pthread -Icommon -Ichild -Icontroller -Iadmin -D_GNU_SOURCE
ifeq ($(SANITIZE),1)
  SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
  OPT := -O1 -fno-omit-frame-pointer $(SAN)
else
  SAN :=
  OPT := -O2
endif
CFLAGS_ALL := $(CFLAGS_COMMON) $(OPT) $(CFLAGS)
LDFLAGS_ALL := -pthread $(SAN) $(LDFLAGS)

PY_CFLAGS := $(shell $(PYTHON_CONFIG) --includes 2>/dev/null)
PY_LIBS := $(shell $(PYTHON_CONFIG) --embed --ldflags 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
CONTROLLER_SRC := $(wildcard controller/*.c)
CHILD_SRC := $(wildcard child/*.c)
ADMIN_SRC := $(wildcard admin/*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
CONTROLLER_OBJ := $(CONTROLLER_SRC:%.c=$(BUILD)/obj/%.o)
CHILD_OBJ := $(CHILD_SRC:%.c=$(BUILD)/obj/%.o)
ADMIN_OBJ := $(ADMIN_SRC:%.c=$(BUILD)/obj/%.o)

BINARIES := $(BUILD)/spawning_controller $(BUILD)/spawning $(BUILD)/spawn $(BUILD)/spawning_child $(BUILD)/spawnctl
PREFIX ?= /usr/local

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test check unit bats asan asan-test clean example install fuzz fuzz-build
all: $(BINARIES)

$(BUILD)/obj/child/%.o: child/%.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS_ALL) $(PY_CFLAGS) -I$(BUILD)/gen -MMD -MP -c $< -o $@

# The Python that spawning_child carries inside it (green mode's loop).
$(BUILD)/gen/green_py.h: child/python/spawning/green.py child/python/embed.py
	@mkdir -p $(dir $@)
	@$(PYTHON) child/python/embed.py $< chd_green_py_source $@
$(BUILD)/obj/child/chd_green.o: $(BUILD)/gen/green_py.h

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/spawning_controller: $(CONTROLLER_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lev -ljansson -lm

$(BUILD)/spawning $(BUILD)/spawn: $(BUILD)/spawning_controller
	ln -sf spawning_controller $@

$(BUILD)/spawning_child: $(CHILD_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lev -ljansson -lhttp_parser $(PY_LIBS)

$(BUILD)/spawnctl: $(ADMIN_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -ljansson

# Unit tests go through the public headers and link common/ plus the plane
# they test (test_ctl_* the controller, the others the child).
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/unit.h $(COMMON_OBJ) $(filter-out %/main.o,$(CHILD_OBJ) $(CONTROLLER_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PY_CFLAGS) -Itests/unit -o $@ $< $(COMMON_OBJ) \
	  $(if $(findstring /test_ctl_,$@),$(filter-out %/main.o,$(CONTROLLER_OBJ)),$(filter-out %/main.o,$(CHILD_OBJ))) \
	  $(LDFLAGS_ALL) -lev -ljansson -lhttp_parser $(PY_LIBS) -lm

deps:
	@sh tests/install-deps.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

bats: all
	SPAWNING_BUILD=$(BUILD) bats tests/bats

check: unit bats

asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 all

# Leaks inside CPython itself are suppressed (tests/lsan.supp); ours are not.
asan-test: export LSAN_OPTIONS = suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
asan-test: export ASAN_OPTIONS = detect_leaks=1
asan-test:
	$(MAKE) BUILD=build-asan SANITIZE=1 check

# libFuzzer over the request parser and environ building (clang, ASan+UBSan).
# `make fuzz` runs the regression corpus, then fuzzes for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_BIN := build-fuzz/fuzz_request
FUZZ_SRC := tests/fuzz/fuzz_request.c $(filter-out child/main.c,$(CHILD_SRC)) $(COMMON_SRC)
fuzz-build: $(FUZZ_BIN)
$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard child/*.h common/*.h) $(BUILD)/gen/green_py.h
	@mkdir -p build-fuzz
	clang -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Icommon -Ichild -I$(BUILD)/gen \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(PY_CFLAGS) -o $@ $(FUZZ_SRC) -lev -ljansson -lhttp_parser $(PY_LIBS) -lm -pthread

fuzz: export ASAN_OPTIONS = detect_leaks=0
fuzz: $(FUZZ_BIN)
	@mkdir -p build-fuzz/corpus
	@$(PYTHON) tests/fuzz/seed_corpus.py build-fuzz/corpus
	$(FUZZ_BIN) -runs=0 -artifact_prefix=build-fuzz/ tests/fuzz/regressions build-fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	  -artifact_prefix=build-fuzz/ build-fuzz/corpus tests/fuzz/regressions

test: deps
	$(MAKE) all
	$(MAKE) check
	$(MAKE) asan-test
	$(MAKE) fuzz FUZZ_SECONDS=60

# The README's first command: build, then serve the hello app on :8080.
example: deps
	$(MAKE) all
	$(BUILD)/spawning --processes 2 tests.apps.hello:app

# spawning_child is found next to the controller, so all go to one place.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/spawning_controller $(BUILD)/spawning_child $(BUILD)/spawnctl $(DESTDIR)$(PREFIX)/bin/
	ln -sf spawning_controller $(DESTDIR)$(PREFIX)/bin/spawning
	ln -sf spawning_controller $(DESTDIR)$(PREFIX)/bin/spawn

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Benchmark: Spawning against gunicorn (sync, gthread, gevent), uWSGI and nginx
# on the same app, alternating servers per round; a table, build/bench/results.json
# and a chart (tests/bench/bench.py; installs its own packages). About 12 minutes;
# `make bench BENCH_ARGS=--quick` is a smoke run of under 2 minutes.
.PHONY: bench
BENCH_ARGS ?=
bench: deps
	@sh tests/bench/install-deps.sh
	$(MAKE) all
	BUILD=$(BUILD) $(PYTHON) tests/bench/bench.py $(BENCH_ARGS)
