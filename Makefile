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
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VERSION := $(shell sed -n 's/^\#define SPAWNING_VERSION "\(.*\)"/\1/p' common/cmn_version.h)
# Where `make install` puts the spawning Python package and its entry-point
# metadata: for PREFIX=/usr/local, a directory on Debian's python3 sys.path.
PYTHON_SITEDIR ?= $(PREFIX)/lib/python3/dist-packages
# The child names its interpreter and finds the installed package by these.
CHILD_DEFS = -DCHD_PYTHON_EXECUTABLE='"$(PYTHON)"' -DCHD_PYTHON_PACKAGE_DIR='"$(PYTHON_SITEDIR)"'

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

# The spawning Python package (child/python/spawning) and its dist-info, as
# $(BUILD)/python: the child puts the directory "python" next to its binary
# on sys.path; PYTHONPATH=$(BUILD)/python lets pserve find egg:Spawning.
PY_PKG_SRC := $(wildcard child/python/spawning/*.py)
DIST_INFO := Spawning-$(VERSION).dist-info
PY_BUILD := $(PY_PKG_SRC:child/python/%=$(BUILD)/python/%) $(BUILD)/python/spawning/_paths.py \
  $(BUILD)/python/$(DIST_INFO)/METADATA $(BUILD)/python/$(DIST_INFO)/entry_points.txt

.PHONY: all deps test check unit unit-build bats asan asan-test clean example install uninstall fuzz fuzz-build
all: $(BINARIES) $(PY_BUILD)

$(BUILD)/obj/child/%.o: child/%.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS_ALL) $(PY_CFLAGS) $(CHILD_DEFS) -I$(BUILD)/gen -MMD -MP -c $< -o $@

# The Python that spawning_child carries inside it (green mode's loop).
$(BUILD)/gen/green_py.h: child/python/spawning/green.py child/python/embed.py
	@mkdir -p $(dir $@)
	@$(PYTHON) child/python/embed.py $< chd_green_py_source $@
$(BUILD)/obj/child/chd_green.o: $(BUILD)/gen/green_py.h

$(BUILD)/python/spawning/%.py: child/python/spawning/%.py
	@mkdir -p $(dir $@)
	@cp $< $@
# Where the Paste server runner finds the spawning binary (make install
# writes the installed one's).
$(BUILD)/python/spawning/_paths.py: Makefile
	@mkdir -p $(dir $@)
	@printf '"""Written by make: where the spawning binaries are."""\nBINDIR = "%s"\n' "$(abspath $(BUILD))" >$@
$(BUILD)/python/$(DIST_INFO)/METADATA: common/cmn_version.h Makefile
	@mkdir -p $(dir $@)
	@printf 'Metadata-Version: 2.1\nName: Spawning\nVersion: %s\nSummary: %s\n' "$(VERSION)" \
	  "A fast WSGI server in C (the spawning package: factories and the Paste server runner)" >$@
$(BUILD)/python/$(DIST_INFO)/entry_points.txt: child/python/entry_points.txt
	@mkdir -p $(dir $@)
	@cp $< $@

# The controller checks --virtualenv for the Python the child embeds.
$(BUILD)/obj/controller/ctl_factory.o: CFLAGS_ALL += -DCTL_PYTHON_VERSION='"$(PY_VERSION)"'

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/spawning_controller: $(CONTROLLER_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lev -ljansson -lm

$(BUILD)/spawning $(BUILD)/spawn: $(BUILD)/spawning_controller
	ln -sf spawning_controller $@

$(BUILD)/spawning_child: $(CHILD_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lev -ljansson -lhttp_parser -lssl -lcrypto $(PY_LIBS)

$(BUILD)/spawnctl: $(ADMIN_OBJ) $(COMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -ljansson

# Unit tests go through the public headers and link common/ plus the plane
# they test (test_ctl_* the controller, test_adm_* spawnctl, the others the child).
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/unit.h $(COMMON_OBJ) $(filter-out %/main.o,$(CHILD_OBJ) $(CONTROLLER_OBJ) $(ADMIN_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(PY_CFLAGS) -Itests/unit -o $@ $< $(COMMON_OBJ) \
	  $(filter-out %/main.o,$(if $(findstring /test_ctl_,$@),$(CONTROLLER_OBJ),$(if $(findstring /test_adm_,$@),$(ADMIN_OBJ),$(CHILD_OBJ)))) \
	  $(LDFLAGS_ALL) -lev -ljansson -lhttp_parser -lssl -lcrypto $(PY_LIBS) -lm

# The differential test includes the reference parser from tests/fuzz.
$(BUILD)/tests/test_ref_parser: $(wildcard tests/fuzz/ref_*.c tests/fuzz/ref_*.h)

deps:
	@sh tests/install-deps.sh

unit-build: $(UNIT_BIN)

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
# FUZZ_SEED=N repeats a campaign (0, the default: a new one each run).
FUZZ_SECONDS ?= 60
FUZZ_SEED ?= 0
FUZZ_BIN := build-fuzz/fuzz_request
FUZZ_SRC := tests/fuzz/fuzz_request.c tests/fuzz/ref_parser.c tests/fuzz/ref_diff.c $(filter-out child/main.c,$(CHILD_SRC)) $(COMMON_SRC)
fuzz-build: $(FUZZ_BIN)
$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard child/*.h common/*.h tests/fuzz/*.h) $(BUILD)/gen/green_py.h
	@mkdir -p build-fuzz
	clang -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Icommon -Ichild -Itests/fuzz -I$(BUILD)/gen \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(PY_CFLAGS) -o $@ $(FUZZ_SRC) -lev -ljansson -lhttp_parser -lssl -lcrypto $(PY_LIBS) -lm -pthread

fuzz: export ASAN_OPTIONS = detect_leaks=0
fuzz: $(FUZZ_BIN)
	@mkdir -p build-fuzz/corpus
	@$(PYTHON) tests/fuzz/seed_corpus.py build-fuzz/corpus
	$(FUZZ_BIN) -runs=0 -artifact_prefix=build-fuzz/ tests/fuzz/regressions build-fuzz/corpus
	$(FUZZ_BIN) -seed=$(FUZZ_SEED) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	  -artifact_prefix=build-fuzz/ build-fuzz/corpus tests/fuzz/regressions

# A second, small target: the PROXY protocol header parser alone
# (tests/fuzz/fuzz_proxyproto.c, seeds in tests/fuzz/proxyproto/), run by
# `make fuzz` first for FUZZ_PROXYPROTO_SECONDS.
FUZZ_PROXYPROTO_SECONDS ?= 20
FUZZ_PP_BIN := build-fuzz/fuzz_proxyproto
fuzz-build: $(FUZZ_PP_BIN)
fuzz: fuzz-proxyproto
$(FUZZ_PP_BIN): tests/fuzz/fuzz_proxyproto.c child/chd_proxyproto.c child/chd_proxyproto.h
	@mkdir -p build-fuzz
	clang -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Ichild \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -o $@ tests/fuzz/fuzz_proxyproto.c child/chd_proxyproto.c

.PHONY: fuzz-proxyproto
fuzz-proxyproto: $(FUZZ_PP_BIN)
	@mkdir -p build-fuzz/corpus-proxyproto
	$(FUZZ_PP_BIN) -runs=0 -artifact_prefix=build-fuzz/ tests/fuzz/proxyproto
	$(FUZZ_PP_BIN) -seed=$(FUZZ_SEED) -max_total_time=$(FUZZ_PROXYPROTO_SECONDS) -max_len=4200 \
	  -artifact_prefix=build-fuzz/ build-fuzz/corpus-proxyproto tests/fuzz/proxyproto

# Each build runs on every core before its tests, which then have the
# machine to themselves (their timing checks assume no compiler beside them).
# Its fuzzing is a fixed campaign, so what passed here passes on CI; new
# ground is for `make fuzz` and `make soak` (600 s, a new seed each run).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) -j$(JOBS) all unit-build
	$(MAKE) check
	$(MAKE) -j$(JOBS) BUILD=build-asan SANITIZE=1 all unit-build
	$(MAKE) asan-test
	$(MAKE) -j$(JOBS) fuzz-build
	$(MAKE) fuzz FUZZ_SECONDS=20 FUZZ_PROXYPROTO_SECONDS=5 FUZZ_SEED=20261201

# The README's first command: build, then serve the hello app on :8080.
example: deps
	$(MAKE) all
	$(BUILD)/spawning --processes 2 tests.apps.hello:app

# spawning_child is found next to the controller, so all go to one place;
# the Python package and its dist-info (egg:Spawning) go to PYTHON_SITEDIR.
PY_DEST = $(DESTDIR)$(PYTHON_SITEDIR)
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/spawning_controller $(BUILD)/spawning_child $(BUILD)/spawnctl $(DESTDIR)$(PREFIX)/bin/
	ln -sf spawning_controller $(DESTDIR)$(PREFIX)/bin/spawning
	ln -sf spawning_controller $(DESTDIR)$(PREFIX)/bin/spawn
	install -d $(PY_DEST)/spawning $(PY_DEST)/$(DIST_INFO)
	install -m 644 $(PY_PKG_SRC) $(PY_DEST)/spawning/
	printf '"""Written by make install: where the spawning binaries are."""\nBINDIR = "%s"\n' \
	  "$(PREFIX)/bin" >$(PY_DEST)/spawning/_paths.py
	install -m 644 $(BUILD)/python/$(DIST_INFO)/METADATA $(BUILD)/python/$(DIST_INFO)/entry_points.txt \
	  $(PY_DEST)/$(DIST_INFO)/

# Removes what install put (and the bytecode Python wrote next to it).
uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,spawning_controller spawning_child spawnctl spawning spawn)
	rm -f $(addprefix $(PY_DEST)/spawning/,$(notdir $(PY_PKG_SRC)) _paths.py)
	rm -rf $(PY_DEST)/spawning/__pycache__
	rm -f $(PY_DEST)/$(DIST_INFO)/METADATA $(PY_DEST)/$(DIST_INFO)/entry_points.txt
	-rmdir $(PY_DEST)/spawning $(PY_DEST)/$(DIST_INFO)

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

# The soak suite (tests/soak/soak.py): every reliability scenario against the
# real binaries under load, the fuzzer beside them; writes
# build/soak/report.md and report.json, fails when a verdict is "fail".
# About 12 minutes (10 of them the fuzzer's); `make soak SOAK=quick` under 4.
.PHONY: soak
SOAK ?= full
soak: all fuzz-build
	@ulimit -n 20000 2>/dev/null || true; \
	BUILD=$(BUILD) $(PYTHON) tests/soak/soak.py $(if $(filter quick,$(SOAK)),--quick) $(SOAK_ARGS)
