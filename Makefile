# Front door. The real build is meson + ninja; these targets also install what is missing.
#   make run     build, create ./govhall.db with the demo catalog if absent, serve on 127.0.0.1:8080
#   make test    every suite (unit, fuzz corpus replay, API and browser; SQLite and PostgreSQL)
#   make bench   wrk against the server beside nginx serving the same bytes
#   make fuzz    build the libFuzzer targets with clang and run each for FUZZ_SECONDS

BUILD ?= build/release
FUZZ_SECONDS ?= 60
DB ?= govhall.db

.PHONY: all build run test bench fuzz clean deps

all: build

deps:
	@scripts/deps.sh build

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --buildtype=release -Dtests=false >/dev/null
	@ninja -C $(BUILD) govhall

run: build
	@[ -e $(DB) ] || $(BUILD)/govhall init --demo --db $(DB)
	$(BUILD)/govhall serve --db $(DB)

test:
	@scripts/test.sh

bench:
	@scripts/deps.sh bench
	@bench/run.sh

fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build
