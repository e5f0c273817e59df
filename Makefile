# mcp-secrets. `make test` is the command CI runs (see .ci/run).
GO ?= go

.PHONY: all build test test-short lint bench fuzz fuzz-ci clean

all: lint build test

build:
	$(GO) build -o bin/mcp-secrets ./cmd/mcp-secrets

# Every test, against real services: gnome-keyring (Secret Service), pass,
# keyctl and Chromium are installed if missing (apt-get, as root) and the
# keyrings started in a throwaway D-Bus session; the TypeScript SDK client
# and the MCP conformance suite (with its Node 22) come from npm.
# Nothing may skip: the tests fail if a service, Node or Chromium is missing.
test:
	npm ci --prefix testdata/tsclient --no-audit --no-fund --loglevel=error
	npm ci --prefix testdata/conformance --no-audit --no-fund --loglevel=error
	MCP_SECRETS_REQUIRE_NODE=1 MCP_SECRETS_REQUIRE_CHROMIUM=1 bash .ci/services.sh $(GO) test -race -count=1 ./...

# The tests that need no services (the keyring and Node tests skip, saying why).
test-short:
	$(GO) test -race ./...

lint:
	@out=$$(gofmt -l cmd internal testdata); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Figures for the memory and file backends beside a minimal go-sdk server
# (testdata/floor): cold start, 200 sequential calls (p50/p99), listing
# 10 / 1,000 / 10,000 names, peak RSS. See BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench 'ColdStart' -benchtime=50x ./cmd/mcp-secrets/
	$(GO) test -run '^$$' -bench 'Call' -benchtime=200x ./cmd/mcp-secrets/
	$(GO) test -run '^$$' -bench 'List' -benchtime=20x ./cmd/mcp-secrets/
	$(GO) test -run '^$$' -bench . ./internal/backend/file/

# Each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzMarshalRoundTrip$$' -fuzztime $(FUZZTIME) ./internal/backend/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckName$$' -fuzztime $(FUZZTIME) ./internal/backend/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/backend/env/
	$(GO) test -run '^$$' -fuzz '^FuzzDotenvRoundTrip$$' -fuzztime $(FUZZTIME) ./internal/backend/env/
	$(GO) test -run '^$$' -fuzz '^FuzzStoreRoundTrip$$' -fuzztime $(FUZZTIME) ./internal/backend/env/
	$(GO) test -run '^$$' -fuzz '^FuzzVarNames$$' -fuzztime $(FUZZTIME) ./internal/backend/env/
	$(GO) test -run '^$$' -fuzz '^FuzzIndexRoundTrip$$' -fuzztime $(FUZZTIME) ./internal/backend/
	$(GO) test -run '^$$' -fuzz '^FuzzFileName$$' -fuzztime $(FUZZTIME) ./internal/backend/file/
	$(GO) test -run '^$$' -fuzz '^FuzzToolArguments$$' -fuzztime $(FUZZTIME) ./internal/server/

# Each fuzz target briefly, so that CI keeps the targets and their seed
# corpora (testdata/fuzz) exercised; `make fuzz` is the long run.
fuzz-ci:
	$(MAKE) fuzz FUZZTIME=3s

clean:
	rm -rf bin

# A bounded soak of the built binary, not run in CI: SOAK_DURATION (default
# 10m) of mixed calls against a throwaway file store, printing calls/s,
# latency and the server's RSS every 30s. It fails on a wrong answer, or if
# RSS keeps growing. SOAK_ARGS passes more flags (e.g. -backend memory).
SOAK_DURATION ?= 10m
.PHONY: soak
soak: build
	SOAK_DURATION=$(SOAK_DURATION) $(GO) run ./testdata/soak -bin bin/mcp-secrets $(SOAK_ARGS)
