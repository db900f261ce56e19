# Slipway: the two commands of the README are `make demo` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
# Developers and CI build with warnings as errors; a plain `cmake` (users,
# packagers) does not.
DEV_CMAKE_ARGS = -DSLIPWAY_WERROR=ON

.PHONY: all build deps test demo asan fuzz format format-check clean

all: build

deps:
	@bash .ci/deps

build:
	cmake -S . -B $(BUILD) $(DEV_CMAKE_ARGS) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $$(bash ../.ci/labels)

demo: deps
	@$(MAKE) --no-print-directory build
	@bash .ci/demo $(BUILD)

# Debug at -g1: line tables, which the sanitizers' stack traces need, without
# full debug info (about 8% less compile time per file here).
asan: deps
	cmake -S . -B $(ASAN_BUILD) -DSLIPWAY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 $(DEV_CMAKE_ARGS) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_tests slipway
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit

# libFuzzer targets, built with clang in build-fuzz/ (EXECS=N per target).
fuzz: deps
	bash bench/fuzz.sh $(EXECS)

SOURCES = find common firmware builder installer cli tests bench fuzz -name '*.cc' -o -name '*.h'

format:
	$(SOURCES) | xargs clang-format -i

# Fails, naming the files, when clang-format would change anything.
format-check:
	$(SOURCES) | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
