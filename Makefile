# sglang-go. `make run` builds and starts the main job on the default model;
# `make test` runs the whole suite.
SHELL := /bin/bash
GO ?= go
SHARED ?= $(or $(SGLANG_SHARED),$(abspath ../shared))
export SGLANG_SHARED := $(SHARED)

# The default model: the shared stories260K folder where it exists, else a
# Hugging Face id (downloaded into the HF cache).
ifneq ($(wildcard $(SHARED)/models/stories260K/config.json),)
MODEL ?= $(SHARED)/models/stories260K
else
MODEL ?= Qwen/Qwen2.5-0.5B-Instruct
endif
PORT ?= 30000
SERVE_FLAGS ?=

BIN := bin/sglang

.PHONY: build run test test-race bench lint fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/sglang

run: build
	./$(BIN) serve --model-path "$(MODEL)" --port $(PORT) $(SERVE_FLAGS)

test: lint
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./srt ./srt/cache/...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2x ./srt/tensor/... ./srt/tokenizer/... ./srt/sample/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Short fuzzing runs of every parser (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
