# The two commands in README.md: `make run` and `make test`. Everything else is a helper.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run test asan fuzz bench format format-check check-banned clean

all: build

deps:
	./scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# veriteed on its embedded SQLite store, with a development configuration under ./var
# that trusts the simulator (scripts/dev-run.sh says so when it starts).
run: build
	VT_BIN=$(BUILD)/bin ./scripts/dev-run.sh

test: build
	./scripts/check-banned.sh
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DVT_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# libFuzzer binaries in $(FUZZ_BUILD)/bin/fuzz_*; run one with e.g.
#   $(FUZZ_BUILD)/bin/fuzz_snp_report fuzz/corpus/snp_report -max_total_time=60
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DVT_FUZZ=ON -DVT_SANITIZE=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS)

bench: build
	./bench/snp.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

check-banned:
	./scripts/check-banned.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
