# shiprelay — every command a developer or CI needs. On a fresh machine
# (Go, Java 17, Node 20, npm) these install what they need by themselves.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FUNCTIONS      := $(notdir $(wildcard functions/*))
CACHE          ?= $(CURDIR)/.cache
GOBIN          := $(CACHE)/bin
STATICCHECK    := $(GOBIN)/staticcheck
STATICCHECK_V  := v0.8.2
STACK          := infra/local/stack.sh
GO_BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
TEST_TIMEOUT   ?= 14m

export SHIPRELAY_CACHE := $(CACHE)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: build
build: $(addprefix build/,$(addsuffix /bootstrap,$(FUNCTIONS))) ## build every function as a stripped linux/arm64 bootstrap

build/%/bootstrap: FORCE
	@mkdir -p $(dir $@)
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o $@ ./functions/$*

.PHONY: FORCE
FORCE:

$(STATICCHECK):
	@mkdir -p $(GOBIN)
	GOBIN=$(GOBIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_V)

.PHONY: lint
lint: $(STATICCHECK) ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go') $$(git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

.PHONY: test
test: lint ## start the local stack, run unit, integration and end-to-end tests, stop what was started
	@started=$$($(STACK) status >/dev/null 2>&1 && echo no || echo yes); \
	  eval "$$($(STACK) start)"; \
	  trap '[ "$$started" = yes ] && $(STACK) stop >/dev/null' EXIT; \
	  go test -count=1 -timeout $(TEST_TIMEOUT) ./... ; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o /dev/null ./functions/...

.PHONY: fuzz
fuzz: ## run the fuzzers of untrusted input (webhook bodies, resource URLs), 30 s each
	go test -run '^$$' -fuzz FuzzParseWebhook -fuzztime 30s ./shared/bigcommerce
	go test -run '^$$' -fuzz FuzzParseWebhook -fuzztime 30s ./shared/shipstation
	go test -run '^$$' -fuzz FuzzResourceURL -fuzztime 30s ./shared/shipstation
	go test -run '^$$' -fuzz FuzzParseOrderChange -fuzztime 30s ./shared/amazon
	go test -run '^$$' -fuzz FuzzNormalize -fuzztime 30s ./shared/amazon
	go test -run '^$$' -fuzz FuzzDetectOrigin -fuzztime 30s ./shared/bigcommerce

.PHONY: bench
bench: ## benchmarks on the local stack: ledger vs raw DynamoDB Local, end-to-end latency
	@started=$$($(STACK) status >/dev/null 2>&1 && echo no || echo yes); \
	  eval "$$($(STACK) start)"; \
	  trap '[ "$$started" = yes ] && $(STACK) stop >/dev/null' EXIT; \
	  go test -run '^$$' -bench . -benchtime 2000x -benchmem ./shared/dynamo/ ; \
	  go run ./infra/cmd/demo -bench

.PHONY: run
run: ## the demo: local stack + sandbox + every function, orders flowing to ShipStation (ARGS="-keep" keeps it up)
	@started=$$($(STACK) status >/dev/null 2>&1 && echo no || echo yes); \
	  eval "$$($(STACK) start)"; \
	  trap '[ "$$started" = yes ] && $(STACK) stop >/dev/null' EXIT; \
	  go run ./infra/cmd/demo $(ARGS)

.PHONY: stack-start stack-stop
stack-start: ## start DynamoDB Local and the SQS emulator (prints the env to eval)
	@$(STACK) start
stack-stop: ## stop them
	@$(STACK) stop

.PHONY: clean
clean:
	rm -rf build .aws-sam
