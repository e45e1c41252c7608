# The commands the README shows. `make test` is what CI runs (.ci/run).

GO        ?= go
# Pinned in go.mod's tool directive, so every machine lints with the same
# checks and a warm module cache is enough (no network).
STATICCHECK ?= $(GO) tool staticcheck
# Runs a command with DATABASE_URL set: DATABASE_URL itself if set, the
# server at 127.0.0.1:5432 if one answers, else a throwaway server.
WITHPG    ?= $(GO) run ./internal/tools/withpostgres --
# 2s per benchmark (BenchmarkScan's 200,000 case runs once: one scan is
# longer) keeps `make bench` near a minute on 2 cores; BENCHCOUNT=3 gives
# three samples of each for medians (benchstat) in under three minutes.
BENCHTIME ?= 2s
BENCHCOUNT ?= 1
FUZZTIME  ?= 30s
# package:FuzzTarget pairs run by `make fuzz`, each for FUZZTIME.
FUZZ_TARGETS ?= ./policy:FuzzParse ./policy:FuzzParseSelector ./policy:FuzzParseDuration ./policy:FuzzParseSize ./policy:FuzzGlob \
	./internal/webhook:FuzzVerifySignature ./internal/webhook:FuzzParseWorkflowRun \
	./internal/config:FuzzParsePrivateKey ./internal/github:FuzzOwnerOf \
	./internal/config:FuzzParseHtpasswd

.PHONY: all deps test lint fmt-check vet staticcheck cross unit build bench fuzz demo clean

all: test build

## test: lint, build for every platform, then every test with the race
## detector against PostgreSQL.
test: deps lint cross unit

## deps: every module go.sum names, staticcheck (go.mod's tool directive)
## included, is in the module cache; if not and there is no network, say
## what to do. With a warm cache make test needs no network (GOPROXY=off).
deps:
	@out="$$($(GO) mod download 2>&1)" || { \
		echo "$$out" | head -n 3; \
		echo; \
		echo "make test needs the modules of go.sum, staticcheck included, in the module cache"; \
		echo "($$($(GO) env GOMODCACHE)), and could not fetch them (GOPROXY=$$($(GO) env GOPROXY))."; \
		echo "Run 'go mod download' once with network access (or a GOPROXY that has them);"; \
		echo "after that make test runs offline."; \
		exit 1; \
	}

## lint: gofmt check, go vet, staticcheck.
lint: fmt-check vet staticcheck

fmt-check:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi

vet:
	$(GO) vet ./...

staticcheck:
	$(STATICCHECK) ./...

## cross: the binary builds for Linux, macOS and Windows.
cross:
	@for os in linux darwin windows; do \
		echo "GOOS=$$os go build ./..."; \
		GOOS=$$os GOARCH=amd64 CGO_ENABLED=0 $(GO) build ./... || exit 1; \
	done

unit:
	$(WITHPG) $(GO) test -race -shuffle=on -count=1 ./...

# What `retentiond version` and retentiond_build_info report. From git when
# there is a checkout; a build without one (a Docker context has no .git)
# passes them: make build VERSION=v1.2.3 REVISION=0123abc.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/retentiond/retentiond/internal/cli.Version=$(VERSION) \
	-X github.com/retentiond/retentiond/internal/cli.Revision=$(REVISION)

## build: a static binary at bin/retentiond (the Dockerfile runs this too),
## stamped with VERSION and REVISION.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/retentiond ./cmd/retentiond

## bench: the project's benchmarks against PostgreSQL.
bench:
	$(WITHPG) $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./...

## fuzz: each fuzz target for FUZZTIME.
fuzz:
	@set -e; for target in $(FUZZ_TARGETS); do \
		pkg="$${target%%:*}"; fn="$${target##*:}"; \
		echo "fuzzing $$fn in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	done

## demo: the self-contained demo.
demo:
	$(GO) run ./cmd/retentiond demo

clean:
	rm -rf bin
