# kritis-validation-hook. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
BIN := $(CURDIR)/bin
GO ?= go
FUZZTIME ?= 30s

.PHONY: help
help: ## list targets
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: tools
tools: ## build the pinned kube-apiserver, etcd, kubectl, registry, cosign, controller-gen into bin/ (cached)
	hack/tools.sh

.PHONY: build
build: ## build kritis and kritis-validation-hook into bin/
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: demo
demo: tools build ## run the documented example on real components; exits 0 when every outcome matches
	$(BIN)/kritis demo --bin-dir $(BIN)

.PHONY: test
test: tools build ## unit, registry, end-to-end (real API server and registry) and cosign interop tests
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './hack/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	KRITIS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m ./...

.PHONY: generate
generate: ## regenerate deepcopy and CRD YAML from api/
	hack/tools.sh controller-gen
	$(BIN)/controller-gen object paths=./api/... crd:crdVersions=v1 output:crd:dir=config/crd

.PHONY: fuzz
fuzz: ## run each fuzz test for 30 s (FUZZTIME=30s)
	$(GO) test ./internal/reference -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/allowlist -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime $(FUZZTIME)
	for f in FuzzParsePayload FuzzDecodePublicKeyData FuzzParsePGPPublicKey FuzzVerifyPGPSignature; do \
	  $(GO) test ./pkg/attest -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done

.PHONY: bench
bench: tools ## admission benchmarks: one decision in memory, then through the real API server and registry
	$(GO) test ./internal/admission ./internal/allowlist -run '^$$' -bench . -benchmem
	KRITIS_BIN_DIR=$(BIN) $(GO) test ./test/e2e -run '^$$' -bench Admission -benchtime 300x
