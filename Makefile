SHELL := /bin/bash
# Voltflow: `make run` brings the whole platform up, `make test` runs every test.
# Both install what is missing (PostgreSQL 15) and fetch the Go toolchain the
# module needs through the module proxy.
export GOTOOLCHAIN := auto
GO   ?= go
BIN  := $(CURDIR)/.voltflow/bin

.PHONY: run test deps build vet lint unit e2e record-histories bench bench-recharge bench-sweep bench-interactive bench-archive bench-regulator bench-chargers bench-tenant bench-ykc fuzz fuzz-api clean

run: deps build
	$(BIN)/voltflow dev

deps:
	@bash deploy/install-deps.sh

build:
	$(GO) build -o $(BIN)/voltflow ./cmd/voltflow
	cd cmd/voltflow-temporal && $(GO) build -o $(BIN)/voltflow-temporal .

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	cd cmd/voltflow-temporal && $(GO) vet ./...

# Static checks samples-go runs: staticcheck, errcheck and workflowcheck
# (determinism), on the application module (the Temporal server in
# cmd/voltflow-temporal is a module of its own, which `go list ./...` does not
# enter). errcheck skips only the closes listed in errcheck-excludes.txt.
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
ERRCHECK      := github.com/kisielk/errcheck@v1.30.0
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
lint:
	$(GO) run $(STATICCHECK) $$($(GO) list ./...)
	$(GO) run $(ERRCHECK) -exclude errcheck-excludes.txt $$($(GO) list ./...)
	$(GO) run $(WORKFLOWCHECK) ./workflows/... ./interconnect/push/...

# Every test: unit tests on a throwaway PostgreSQL cluster, end-to-end tests on
# a real Temporal server (PostgreSQL persistence), real sockets, real HTTP.
test: deps build vet lint
	VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -p 2 -timeout 20m ./... 2>&1 | tee .voltflow/test.log; exit $${PIPESTATUS[0]}

unit:
	$(GO) test -short ./...

# Workflow histories for the replay tests (workflows/replay_test.go): the
# end-to-end packages record one per workflow type on the current code, and
# each GetVersion branch's old side is recorded on the code from before it
# (workflows/testdata/histories/README.md).
HISTORIES   := $(CURDIR)/workflows/testdata/histories
RECORD_PKGS := aircon alarm allowance archive billing bulk charging commonarea credit dispatch e2e feekill metercmd meterprices payment refund regulator replacement safety settlement sweep tenant voucher wallet workorder
record-histories: deps build
	find $(HISTORIES) -name '*.json' ! -name '*.before-*' -delete
	VOLTFLOW_RECORD_HISTORIES=$(HISTORIES) VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -p 2 -timeout 30m \
	  $(addprefix ./tests/,$(addsuffix /,$(RECORD_PKGS)))
	tests/harness/record-before.sh even-batches sweep tests/sweep TestScheduledSweep
	tests/harness/record-before.sh release-at-end dispatch-smart tests/dispatch TestSmartPlan
	tests/harness/record-before.sh plan-in-local-activity dispatch-smart tests/dispatch TestSmartPlan
	tests/harness/record-before.sh small-change-below-plan-only dispatch-smart tests/dispatch TestSmartPlan
	tests/harness/record-before.sh restore-answers-when-stored safety tests/safety TestOverMaxLoadTripsThenLocksOutUntilAManagerRestores
	tests/harness/record-before.sh fee-due-pages property-fees tests/feekill TestKillWorkerMidFeeRun
	$(GO) test -count=1 -run 'Replay|History|Histories' ./workflows/

# Recharges per second end to end next to a bare one-activity workflow.
bench: deps build
	VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -run '^$$' -bench . -benchtime 300x -timeout 20m ./tests/e2e/

# 100,000 simulated meters (a separate simulator process on ports 20000-23124,
# or the next free run below 32768)
# read into PostgreSQL by a Schedule-triggered sweep, next to a bare loop;
# the last line is `sweep meters=100000 seconds=<s> baseline_seconds=<b>`.
bench-sweep: deps build
	@mkdir -p .voltflow
	@VOLTFLOW_BENCH_SWEEP=1 VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -v -run '^TestSweep100k$$' -timeout 15m \
	  ./tests/sweepbench/ > .voltflow/bench-sweep.log 2>&1; rc=$$?; \
	  grep -E '^\s+bench_test.go|^(--- |ok|FAIL)' .voltflow/bench-sweep.log; \
	  if [ $$rc -ne 0 ]; then tail -50 .voltflow/bench-sweep.log; exit $$rc; fi; \
	  grep '^sweep meters=' .voltflow/bench-sweep.log | tail -1

# Operator commands while bulk work runs (issue 20 section 11): 100,000
# simulated meters swept back to back, 50 single switch commands (each to a
# meter of its own) timed from the API call to the meter taking the write,
# then the same with a 10,000-meter batch command running; two lines:
# `interactive case=sweep|sweep+batch meters=100000 commands=50 p50_ms=<> p99_ms=<> max_ms=<>`.
bench-interactive: deps build
	@mkdir -p .voltflow
	@VOLTFLOW_BENCH_INTERACTIVE=1 VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -v -run '^TestInteractive100k$$' -timeout 25m \
	  ./tests/interactivebench/ > .voltflow/bench-interactive.log 2>&1; rc=$$?; \
	  grep -E '^\s+bench_test.go|^(--- |ok|FAIL)' .voltflow/bench-interactive.log; \
	  if [ $$rc -ne 0 ]; then tail -50 .voltflow/bench-interactive.log; exit $$rc; fi; \
	  grep '^interactive case=' .voltflow/bench-interactive.log

# Regulator push latency (connector status change → simulator receipt,
# p50/p99) and push rate at REGULATOR_CONNECTORS connectors, all pushed
# periodically every 5 s; two lines: case=realistic (2 % changing per
# cadence) and case=every-connector (each changing every 5 s).
REGULATOR_CONNECTORS ?= 6000
# A sweep of 10,016 meters while a month of their readings is archived:
# the sweep's usual time and its time during the archive (issue 20 §9).
bench-archive: deps build
	VOLTFLOW_BENCH_ARCHIVE=1 VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -v -run '^TestSweepKeepsItsSpeedDuringArchive$$' -timeout 30m \
	  ./tests/archive/ 2>&1 | grep -E '^archive meters=|^(--- |ok|FAIL)'; exit $${PIPESTATUS[0]}

bench-regulator: deps build
	@mkdir -p .voltflow
	@VOLTFLOW_REGULATOR_BENCH_CONNECTORS=$(REGULATOR_CONNECTORS) VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -v \
	  -run '^TestPushLatencyAtScale$$' -timeout 30m ./tests/regulator/ > .voltflow/bench-regulator.log 2>&1; rc=$$?; \
	  grep -E '^regulator push latency|^(--- |ok|FAIL)' .voltflow/bench-regulator.log; exit $$rc
# N simulated OCPP charge points (`voltflow sim chargers`, a separate process;
# heartbeat and MeterValues every 60 s) on the central system, for each N of
# BENCH_CHARGERS; one line per N: `chargers n=<N> online=<n> msgs=<m>
# p50_ms=<> p99_ms=<> max_ms=<> heap_kb_per_cp=<> sim_rss_kb_per_cp=<>`.
BENCH_CHARGERS ?= 1000,5000,10000
bench-chargers: deps build
	@mkdir -p .voltflow
	@VOLTFLOW_BENCH_CHARGERS=$(BENCH_CHARGERS) VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -v -run '^TestChargers$$' -timeout 60m \
	  ./tests/chargerbench/ > .voltflow/bench-chargers.log 2>&1; rc=$$?; \
	  grep -E '^\s+bench_test.go|^(--- |ok|FAIL)' .voltflow/bench-chargers.log; \
	  if [ $$rc -ne 0 ]; then tail -50 .voltflow/bench-chargers.log; exit $$rc; fi; \
	  grep '^chargers n=' .voltflow/bench-chargers.log

# Tenant balance page (GET /api/v1/tenant/meters) with 64 concurrent clients
# and 100,000 tenants' meters, next to GET /healthz on the same API process;
# two lines: `tenant-balance ... rate=<>/s p50_ms=<> p99_ms=<>` and `healthz ...`.
bench-tenant: deps build
	@mkdir -p .voltflow
	@VOLTFLOW_BENCH_TENANT=1 VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -v -run '^TestTenantBalanceBench$$' -timeout 15m \
	  ./tests/tenant/ > .voltflow/bench-tenant.log 2>&1; rc=$$?; \
	  grep -E '^(tenant-balance|healthz) |^(--- |ok|FAIL)' .voltflow/bench-tenant.log; exit $$rc

# YKC chargers held by the YKC server (tests/chargerbench TestYKCChargers).
BENCH_YKC ?= 5000
bench-ykc: deps build
	@VOLTFLOW_BENCH_YKC=$(BENCH_YKC) VOLTFLOW_BIN_DIR=$(BIN) $(GO) test -count=1 -v -run '^TestYKCChargers$$' -timeout 30m \
	  ./tests/chargerbench/ 2>&1 | grep -E '^ykc chargers|^(--- |ok|FAIL)'; exit $${PIPESTATUS[0]}

# Run every fuzz target of the module for FUZZTIME each. Only packages whose
# tests declare a Fuzz function are asked for the list: asking runs the test
# binary, and many start a PostgreSQL cluster in TestMain first.
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list -f '{{.ImportPath}} {{.Dir}}' ./... | \
	    while read -r p d; do grep -qs '^func Fuzz' $$d/*_test.go && echo $$p; done); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

# The API fuzzer (tests/apifuzz) for longer than its bounded run in `make
# test`: FUZZ_API_REQUESTS requests from FUZZ_API_SEED to every operation of
# the OpenAPI document, on the real platform.
FUZZ_API_REQUESTS ?= 50000
FUZZ_API_SEED     ?= $(shell date +%s)
fuzz-api: deps build
	VOLTFLOW_FUZZ_REQUESTS=$(FUZZ_API_REQUESTS) VOLTFLOW_FUZZ_SEED=$(FUZZ_API_SEED) VOLTFLOW_BIN_DIR=$(BIN) \
	  $(GO) test -count=1 -v -run '^TestFuzzAPI$$' -timeout 60m ./tests/apifuzz/

clean:
	rm -rf $(BIN)
