# nftflow: build, test and benchmark. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
GO ?= go
BIN := bin/nftflow
CACHE := $(CURDIR)/.cache
GOBIN_CACHE := $(CACHE)/bin
STATICCHECK := $(GOBIN_CACHE)/staticcheck
STATICCHECK_VERSION := v0.8.2
export NFTFLOW_BIN := $(CURDIR)/$(BIN)
PKGS = $$($(GO) list ./... | grep -v /conformance)
# Debian packages the tests and benchmarks run against (peers and tools).
APT_PKGS := nftables conntrack iproute2 time iputils-ping
APT_CMDS := nft conntrack ip /usr/bin/time ping

.PHONY: all build install deps demo test unit conformance fuzz check bench vmtest docs clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/nftflow

install:
	$(GO) install ./cmd/nftflow

# deps installs the peers (nft, conntrack) and tools from apt when missing.
deps:
	@missing=""; for c in $(APT_CMDS); do command -v $$c >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
		echo "installing $(APT_PKGS) from apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi

$(STATICCHECK):
	GOBIN=$(GOBIN_CACHE) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# demo: the main job on the examples that ship with the repo.
demo: deps build
	./examples/demo.sh

test: deps build unit conformance vmtest

# Tests keep what declarative applies record out of /var/lib/nftflow.
TEST_STATE := $(CACHE)/test-state

unit:
	rm -rf $(TEST_STATE)
	NFTFLOW_STATE_DIR=$(TEST_STATE) $(GO) test -count=1 $(PKGS)

conformance: build
	rm -rf $(TEST_STATE)
	@set -o pipefail; NFTFLOW_STATE_DIR=$(TEST_STATE) $(GO) test -count=1 -timeout 30m -v ./conformance/ | grep -E '^(SUITE|--- FAIL|FAIL|ok|PASS|\s+\S+_test.go)' 

# fuzz searches for new parser failures for 20 s. It is part of check,
# run before each commit, and not of test: a random search would fail CI
# on whatever it happens to find, not on the change. The inputs it found
# are kept in parser/testdata/fuzz and run by every go test.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./parser/

check: $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test -race -count=1 $(PKGS)
	$(MAKE) --no-print-directory fuzz

bench: deps build
	./bench/run.sh

# vmtest boots Debian's stable and unstable kernels under qemu and runs
# vm/scenarios/ inside (docs/vmtest.md). VMTEST_ARGS passes options to
# vm/run.sh, e.g. make vmtest VMTEST_ARGS="--kernel 6.1 --scenario forward".
VMTEST_ARGS ?=
vmtest: deps build
	./vm/deps.sh
	./vm/run.sh $(VMTEST_ARGS)

docs: build
	./$(BIN) docs --dir docs/man

clean:
	rm -rf bin
