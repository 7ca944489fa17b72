# hellogw — `make help` lists the targets.
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/hellogw
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME  ?= 60s

# GOTAGS are the build tags of every Go command make runs (a comma list).
# nomsgpack leaves gin's MessagePack binding and renderer, and the codec
# package behind them, out of every binary and test: the gateway never
# speaks MessagePack, and their tables would be live objects the collector
# marks in every cycle (README, Performance, "The tail"). Add tags of your
# own here (GOTAGS=nomsgpack,mine): the go command keeps only the last
# -tags of GOFLAGS, so one already in GOFLAGS would be overridden.
GOTAGS ?= nomsgpack
ifneq ($(findstring -tags,$(GOFLAGS)),)
$(warning GOFLAGS' -tags is overridden by -tags=$(GOTAGS): give your tags in GOTAGS)
endif
export GOFLAGS := $(strip $(GOFLAGS) -tags=$(GOTAGS))

.PHONY: help build run example test gen lint bench fuzz deps bench-deps

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/hellogw
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

run: build ## run the gateway on the embedded default config (127.0.0.1:8080)
	./$(BIN)

example: build ## run the gateway on examples/oauth.yaml: OAuth on, sayHello needs a token (README "Walkthrough")
	./$(BIN) -config examples/oauth.yaml -store ./data/example.db

deps: ## install what the tests need (Debian packages), when missing
	@./scripts/deps.sh test

test: ## run every test, each stage timed (scripts/test.sh): deps, gofmt, vet, a throwaway PostgreSQL, go test -race, outage
	@GO=$(GO) ./scripts/test.sh

gen: ## regenerate gen/ from wsdl/ with gowsdl
	$(GO) generate ./wsdl

lint: ## gofmt, go vet, staticcheck, and no build output tracked in git
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	./scripts/check-tracked.sh

bench-deps: ## install wrk for make bench
	@./scripts/deps.sh bench

bench: bench-deps build ## Go benchmarks, then wrk load tests: bin/hellogw against a bare net/http server, and bridged against its upstream
	@# The store benchmarks measure PostgreSQL too, on a throwaway server of their own.
	./scripts/postgres.sh run $(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./scripts/loadbench -bin $(BIN)
	./scripts/loadtest-bridge.sh
	$(GO) run ./scripts/xmlflood -bin $(BIN)

fuzz: ## fuzz the XML and SOAP decoders, the SOAP and JSON fast paths, the JSON quote and the log handler, FUZZTIME each (default 60s)
	$(GO) test -run '^$$' -fuzz FuzzDecodeEnvelope -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz FuzzStrictXML -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz FuzzSOAPFastPath -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz FuzzJSONFastPath -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz FuzzJSONQuote -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz FuzzEscapeText -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run '^$$' -fuzz FuzzSameAsSlog -fuzztime $(FUZZTIME) ./internal/flatlog
