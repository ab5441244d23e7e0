# Everyday targets. `make synth` and `make test` are the two commands in the README.
SHELL := /bin/bash
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export GOFLAGS := -mod=readonly
# The cdktf-cli (`make cdktf-synth`, `npx cdktf ...` from make) otherwise asks HashiCorp's
# version-check service (checkpoint) on every run and prints an ERROR line where it is
# unreachable. Terraform honours the same variable.
export CHECKPOINT_DISABLE := 1
# node_modules holds a stray Go package (flatted); list ours explicitly.
PACKAGES := . ./stacks/... ./ops/... ./lambda/...

.PHONY: go-modules check-node setup synth cdktf-synth test test-infra test-function gameday snapshots docs report review diagram bench fuzz lint deploy-state deploy diff clean

# Two kinds of set-up. The synth needs the Go modules and a `node` binary: the jsii
# runtime, cdktf and the provider bindings ship their JavaScript inside the Go modules, so
# no npm package is involved. node_modules (npm ci) holds only the tests' local AWS
# stand-ins (dynalite, s3rver) and the cdktf-cli, for the targets that use them.
NODE_MIN := 20

go-modules:
	go mod download

check-node:
	@command -v node >/dev/null || { echo "node is not on PATH: the synth runs cdktf through jsii, which needs Node.js $(NODE_MIN) or later (no npm packages); see README.md, Supported versions" >&2; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MIN) ? 0 : 1)' || { echo "node $$(node --version) is too old: the synth needs Node.js $(NODE_MIN) or later" >&2; exit 1; }

# node_modules is rebuilt only when the lock changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

setup: go-modules check-node node_modules/.package-lock.json

# Synthesize both stacks with the configuration from the environment (defaults need no
# AWS credentials) into cdktf.out/. No npm: see the set-up above.
synth: go-modules check-node
	go run .

# Every test: configuration, snapshots, properties, invariants, the function's unit,
# fuzz-seed and integration tests (against dynalite and s3rver), the operator tools.
test: setup
	go test -count=1 $(PACKAGES)

# The local game day: both regions' functions on dynalite/s3rver stand-ins with lagging
# replication, a Route 53-like router and clients posting payments; kills, brings back,
# drains and undrains the primary. Ends with the one-line summary; fails on a lost or
# duplicated payment or a failed scenario assertion. (`make test` runs it too.)
gameday: setup
	go run ./lambda/gameday

# Chaos mode (README, Game day): seeds 1..SEEDS, each a random schedule of faults
# over CHAOS_DURATION, CHAOS_PARALLEL at a time in one process (each with its own
# stand-ins). Prints every seed's schedule and line, the timeline of a failing one,
# and a summary line; fails if any seed fails.
SEEDS ?= 20
CHAOS_DURATION ?= 3s
CHAOS_PARALLEL ?= 2
.PHONY: chaos
chaos: setup
	go run ./lambda/gameday -chaos -seeds $(SEEDS) -duration $(CHAOS_DURATION) -parallel $(CHAOS_PARALLEL)

# Rewrite generated/ from a fresh synth, and the README's diagram and recovery report
# from it; review and commit the diff.
snapshots: go-modules check-node
	go test -count=1 ./stacks -run 'TestSnapshotsMatchSynth' -update
	go run . docs

# The same synth through the pinned cdktf-cli (`npx cdktf synth`), which runs cdktf.json's
# app, `go run .`.
cdktf-synth: setup
	npx cdktf synth

# Rewrite the README's diagram and recovery report from generated/.
docs:
	go run . docs

report: synth
	go run . report

# Offline plan of a fresh synth (cdktf.out/) against the reviewed snapshots (generated/):
# changes per address, DATA AT RISK, the recovery delta. REVIEW_ARGS passes flags, e.g.
# REVIEW_ARGS='--base-ref origin/main --strict'. No credentials, no provider download.
review: synth
	go run . review $(REVIEW_ARGS)

diagram:
	go run . diagram --from generated/payments-dr.json --format dot --svg topology.svg

bench: setup
	go test -run '^$$' -bench . -benchmem ./lambda/... ./stacks/... ./ops/...

# payments-dr's synth against the floor (a one-resource cdktf app with the same modules):
# both built once, run in alternation, BENCH_RUNS times each; prints every run's CPU
# (user+sys of the process and its children: Node, go build), wall time and peak RSS,
# the medians and the ratio app/floor. No npm: synth does not need node_modules.
BENCH_RUNS ?= 7
.PHONY: bench-synth
bench-synth: go-modules check-node
	go run ./ops/synthbench -n $(BENCH_RUNS)

fuzz:
	go test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./lambda/payment

lint:
	test -z "$$(gofmt -l *.go stacks ops lambda)"
	go vet $(PACKAGES)

# Need AWS credentials and the hashicorp/aws provider download; not run in CI. Terraform
# runs in the synthesized stack's directory (what `cdktf deploy` does too, minus the
# cdktf-cli's native terminal module, whose install script package.json does not allow).
deploy-state: synth
	cd cdktf.out/stacks/payments-dr-state && terraform init -input=false && terraform apply

deploy: synth
	cd cdktf.out/stacks/payments-dr && terraform init -input=false && terraform apply

diff: synth
	cd cdktf.out/stacks/payments-dr && terraform init -input=false && terraform plan

clean:
	rm -rf cdktf.out cdktf.out.tmp-*
