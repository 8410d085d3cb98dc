# make test   — what CI runs (.ci/run): every package under the race detector, then the
#               tsc package again with -tags purego so the portable clock is tested too,
#               and the runtime, profiler, echo and client with -tags coro_poll so the
#               portable poller (poll(2), what darwin and the BSDs run) is tested too.
# make cross  — vet and build for darwin and freebsd; check the unsupported-OS sentence.
# make demo   — profile an example server and write report.html.
# make bench  — benchmarks; PKG=./tsc/ BENCH=Now narrows them.
# make echarts — fetch the committed chart bundle from npm again and verify its checksum.

# Go is at /usr/local/go on the project's machines, not always on PATH.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PKG ?= ./...
BENCH ?= .

.PHONY: all echarts test cross demo bench

all: test

# The echarts runtime the HTML report inlines is committed, with its licence, in
# web/third_party/echarts/ (see its README.md): building needs Go alone. `make echarts`
# fetches the pinned release from the npm registry again and fails unless both the
# fetched and the committed echarts.min.js match the committed echarts.min.js.sha256;
# `make echarts ECHARTS_UPDATE=1` instead writes the fetched file, licence and a new
# checksum (moving to another release: see that README). Only these need npm.
ECHARTS_VERSION = 5.4.3
ECHARTS_DIR = web/third_party/echarts
echarts:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && \
		tar xzf echarts-$(ECHARTS_VERSION).tgz package/dist/echarts.min.js package/LICENSE package/NOTICE); \
	if [ -n "$(ECHARTS_UPDATE)" ]; then \
		cp "$$tmp/package/dist/echarts.min.js" "$$tmp/package/LICENSE" "$$tmp/package/NOTICE" $(ECHARTS_DIR)/; \
		(cd $(ECHARTS_DIR) && sha256sum echarts.min.js >echarts.min.js.sha256); \
		echo "wrote echarts $(ECHARTS_VERSION), its licence and checksum into $(ECHARTS_DIR)"; \
	else \
		(cd "$$tmp/package/dist" && sha256sum --quiet -c "$(CURDIR)/$(ECHARTS_DIR)/echarts.min.js.sha256") || \
			{ echo "echarts $(ECHARTS_VERSION) from npm does not match $(ECHARTS_DIR)/echarts.min.js.sha256" >&2; exit 1; }; \
		(cd $(ECHARTS_DIR) && sha256sum --quiet -c echarts.min.js.sha256) || \
			{ echo "$(ECHARTS_DIR)/echarts.min.js does not match its echarts.min.js.sha256" >&2; exit 1; }; \
		cmp "$$tmp/package/LICENSE" $(ECHARTS_DIR)/LICENSE && cmp "$$tmp/package/NOTICE" $(ECHARTS_DIR)/NOTICE; \
		echo "echarts $(ECHARTS_VERSION) from npm matches the committed copy and $(ECHARTS_DIR)/echarts.min.js.sha256"; \
	fi

test:
	$(GO) test -race ./...
	$(GO) test -race -tags purego ./tsc/
	$(GO) test -race -tags coro_poll ./runtime/ ./profiler/ ./examples/echo/ ./examples/client/

# The platforms the runtime supports beyond Linux (README.md, Platforms): every package
# vets and builds for each, and a build for an OS it does not support stops at one
# sentence (runtime/unsupported.go), not at a list of undefined names.
CROSS = darwin/arm64 darwin/amd64 freebsd/amd64
cross:
	@set -e; for t in $(CROSS); do \
		echo "go vet, go build: $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./...; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./...; \
	done
	@set -e; for t in windows/amd64 plan9/amd64 js/wasm; do \
		out=$$(GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./runtime/ 2>&1 || true); \
		first=$$(printf '%s\n' "$$out" | grep -v '^#' | head -1); \
		case "$$first" in \
		*coro_runtime_needs_Linux_macOS_or_a_BSD_see_README_Platforms*) echo "$$t: $$first";; \
		*) echo "$$t: the build's first error is not runtime/unsupported.go's sentence:" >&2; printf '%s\n' "$$out" >&2; exit 1;; \
		esac; \
	done

# The demo: a loopback server and its clients (examples/demo) run under the profiler,
# then print-profile renders the file. Both binaries are built first so the profile
# shows the demo, not the compiler.
demo:
	@mkdir -p .demo
	$(GO) build -o .demo/demo ./examples/demo
	$(GO) build -o .demo/print-profile ./cmd/print-profile
	.demo/demo -o coro_profile.bin
	.demo/print-profile -o report.html coro_profile.bin
	@echo "wrote $(CURDIR)/report.html (open it in a browser; it needs no network)"
	@echo "also try: .demo/print-profile -text coro_profile.bin | less -S"

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKG)
