# hellogw — `make help` lists the targets.
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/hellogw
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME  ?= 60s

.PHONY: help build run test gen lint bench fuzz deps bench-deps

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/hellogw
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

run: build ## run the gateway on the embedded default config (127.0.0.1:8080)
	./$(BIN)

deps: ## install what the tests need (Debian packages), when missing
	@./scripts/deps.sh test

test: deps ## run every test: gofmt, vet, unit, real clients, browser, PostgreSQL, fuzz seeds, with -race
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'))" || { echo "not gofmt'ed:"; gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'); exit 1; }
	$(GO) vet ./...
	@# A throwaway PostgreSQL on loopback (scripts/postgres.sh); the outage
	@# tests stop and start it, so they run after the rest, on their own.
	eval "$$(./scripts/postgres.sh start)" && \
	  $(GO) test -race -count=1 -timeout 15m -skip '^TestOutage' ./... && \
	  HELLOGW_TEST_POSTGRES_CTL=$(CURDIR)/scripts/postgres.sh $(GO) test -race -count=1 -p 1 -timeout 5m -run '^TestOutage' ./oauth/postgres .

gen: ## regenerate gen/ from wsdl/ with gowsdl
	$(GO) generate ./wsdl

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '^gen/'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench-deps:
	@./scripts/deps.sh bench

bench: bench-deps build ## Go benchmarks, then wrk load tests: bin/hellogw against a bare net/http server, and bridged against its upstream
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./scripts/loadtest.sh
	./scripts/loadtest-bridge.sh

fuzz: ## fuzz the SOAP envelope decoder for FUZZTIME (default 60s)
	$(GO) test -run '^$$' -fuzz FuzzDecodeEnvelope -fuzztime $(FUZZTIME) ./gateway
