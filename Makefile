# make test   — what CI runs (.ci/run): every package under the race detector, then the
#               tsc package again with -tags purego so the portable clock is tested too.
# make demo   — profile an example server and write report.html.
# make bench  — benchmarks; PKG=./tsc/ BENCH=Now narrows them.
# make assets — fetch what the HTML report embeds (charts); test depends on it.

# Go is at /usr/local/go on the project's machines, not always on PATH.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PKG ?= ./...
BENCH ?= .

.PHONY: all assets test demo bench

all: test

# The echarts runtime the HTML report inlines, pinned to the release go-echarts v2.6.7
# targets (web.EchartsVersion), fetched from the npm registry; never committed.
ECHARTS_VERSION = 5.4.3
assets: web/assets/echarts.min.js
web/assets/echarts.min.js:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz package/dist/echarts.min.js); \
	cp "$$tmp/package/dist/echarts.min.js" $@.tmp && mv $@.tmp $@; \
	echo "fetched echarts $(ECHARTS_VERSION) into $@"

test: assets
	$(GO) test -race ./...
	$(GO) test -race -tags purego ./tsc/

# The demo: a loopback server and its clients (examples/demo) run under the profiler,
# then print-profile renders the file. Both binaries are built first so the profile
# shows the demo, not the compiler.
demo: assets
	@mkdir -p .demo
	$(GO) build -o .demo/demo ./examples/demo
	$(GO) build -o .demo/print-profile ./cmd/print-profile
	.demo/demo -o coro_profile.bin
	.demo/print-profile -o report.html coro_profile.bin
	@echo "wrote $(CURDIR)/report.html (open it in a browser; it needs no network)"
	@echo "also try: .demo/print-profile -text coro_profile.bin | less -S"

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKG)
