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
FUZZ_TARGETS ?= ./policy:FuzzParse ./policy:FuzzParseDuration ./policy:FuzzParseSize ./policy:FuzzGlob \
	./internal/webhook:FuzzVerifySignature ./internal/webhook:FuzzParseWorkflowRun \
	./internal/config:FuzzParseHtpasswd

.PHONY: all test lint fmt-check vet staticcheck cross unit build bench fuzz demo clean

all: test build

## test: lint, build for every platform, then every test with the race
## detector against PostgreSQL.
test: lint cross unit

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

## build: a static binary at bin/retentiond (the Dockerfile runs this too).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/retentiond ./cmd/retentiond

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
