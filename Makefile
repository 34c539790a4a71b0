# Front door. The real build is meson + ninja; these targets also install what is missing.
#   make run     build, create ./govhall.db with the demo catalog if absent, serve on 127.0.0.1:8080
#   make federation-demo   a national hub and two halls (Qinghe, Lanshan) on localhost:8090, 127.0.0.1:8091, 127.0.0.2:8092
#   make test    every suite (unit, fuzz corpus replay, API and browser; SQLite and PostgreSQL)
#   make bench   wrk against the server beside nginx serving the same bytes
#   make bench-scale   national-scale data on PostgreSQL, each figure beside 10,000 applications
#   make fuzz    build the libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make install PREFIX=/usr/local DESTDIR=   binary, man page, templates, static files, data
#   make deb     the Debian package (build/deb/govhall_VERSION_ARCH.deb), checked with lintian
#   make screenshots   the README's pictures (docs/screenshot*.png) from a demo hall with history

BUILD ?= build/release
FUZZ_SECONDS ?= 60
DB ?= govhall.db
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_BUILD ?= build/install

.PHONY: all build run federation-demo test bench bench-scale fuzz clean deps install deb screenshots

all: build

deps:
	@scripts/deps.sh build

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --buildtype=release -Dtests=false >/dev/null
	@ninja -C $(BUILD) govhall

run: build
	@[ -e $(DB) ] || $(BUILD)/govhall init --demo --db $(DB)
	$(BUILD)/govhall serve --db $(DB)

federation-demo: build
	@BIN=$(BUILD)/govhall scripts/federation-demo.sh

test:
	@scripts/test.sh

bench:
	@scripts/deps.sh bench
	@bench/run.sh

bench-scale:
	@scripts/deps.sh bench
	@bench/scale.sh

install: deps
	@[ -f $(INSTALL_BUILD)/build.ninja ] || meson setup $(INSTALL_BUILD) --buildtype=release -Dtests=false -Ddevtree=false >/dev/null
	@meson configure $(INSTALL_BUILD) -Dprefix=$(PREFIX)
	@ninja -C $(INSTALL_BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(INSTALL_BUILD) --no-rebuild

deb:
	@scripts/deb.sh

screenshots: build
	@scripts/deps.sh shots
	@[ -d node_modules ] || npm ci
	GOVHALL_BIN=$(CURDIR)/$(BUILD)/govhall node scripts/screenshots.mjs

fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build
