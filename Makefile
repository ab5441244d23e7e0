# Everyday targets. `make synth` and `make test` are the two commands in the README.
SHELL := /bin/bash
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export GOFLAGS := -mod=readonly
# go1.26.8, the Go these machines start with, links ten standard-library vulnerabilities
# into the functions (govulncheck, below: crypto/x509, crypto/tls, net/http, net/textproto);
# go1.27.3 fixes them all. go.mod requires it, so a go command that cannot switch fails
# with "go.mod requires go >= 1.27.3" instead of building a vulnerable function; machines
# whose go.env says GOTOOLCHAIN=local need this export (make does it; outside make, see
# docs/synth-cost-and-versions.md, Versions).
export GOTOOLCHAIN := go1.27.3
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
	@command -v node >/dev/null || { echo "node is not on PATH: the synth runs cdktf through jsii, which needs Node.js $(NODE_MIN) or later (no npm packages); see docs/synth-cost-and-versions.md, Versions" >&2; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MIN) ? 0 : 1)' || { echo "node $$(node --version) is too old: the synth needs Node.js $(NODE_MIN) or later" >&2; exit 1; }

# node_modules is rebuilt only when the lock changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

setup: go-modules check-node node_modules/.package-lock.json

# Synthesize both stacks with the configuration from the environment (defaults need no
# AWS credentials) into cdktf.out/. No npm: see the set-up above.
synth: go-modules check-node
	go run .

# Every test: configuration, snapshots, properties, invariants, the functions' unit,
# fuzz-seed and integration tests (against dynalite and s3rver), the operator tools, the
# game day (its scenarios and a few chaos seeds).
test: setup
	go test -count=1 $(PACKAGES)

# The local game day: both regions' functions on dynalite/s3rver stand-ins with lagging
# replication, a Route 53-like router and clients posting payments; kills, brings back,
# drains and undrains the primary. Ends with the one-line summary; fails on a lost or
# duplicated payment or a failed scenario assertion. (`make test` runs it too.)
gameday: setup
	go run ./lambda/gameday

# Chaos mode (docs/game-day.md): seeds 1..SEEDS, each a random schedule of faults
# over CHAOS_DURATION, CHAOS_PARALLEL at a time in one process (each with its own
# stand-ins). Prints every seed's schedule and line, the timeline of a failing one,
# and a summary line; fails if any seed fails.
SEEDS ?= 20
CHAOS_DURATION ?= 3s
CHAOS_PARALLEL ?= 2
.PHONY: chaos
chaos: setup
	go run ./lambda/gameday -chaos -seeds $(SEEDS) -duration $(CHAOS_DURATION) -parallel $(CHAOS_PARALLEL)

# Rewrite generated/ from a fresh synth, and the generated sections of README.md and docs/
# from it; review and commit the diff.
snapshots: go-modules check-node
	go test -count=1 ./stacks -run 'TestSnapshotsMatchSynth' -update
	go run . docs

# The same synth through the pinned cdktf-cli (`npx cdktf synth`), which runs cdktf.json's
# app, `go run .`.
cdktf-synth: setup
	npx cdktf synth

# Rewrite the generated sections of README.md and docs/ (diagram, recovery report,
# configuration table) from generated/ and stacks/config.
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

# The Go ecosystem's checks, each tool run by its pinned version (`go run pkg@version`
# checks the module against the checksum database; nothing is installed by hand).
# staticcheck: its default checks (bugs, simplifications, unused code). govulncheck: the
# vulnerabilities the code can reach, from an offline database indexed from the
# golang.org/x/vulndb module at a pinned version (this machine cannot reach vuln.go.dev);
# the index is built once per version into .cache/ (about 4 minutes cold, 40 MB).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB := .cache/vulndb-$(VULNDB_VERSION)

lint: $(VULNDB)/index/db.json
	test -z "$$(gofmt -l *.go stacks ops lambda)"
	go vet $(PACKAGES)
	GOFLAGS= go run $(STATICCHECK) $(PACKAGES)
	GOFLAGS= go run $(GOVULNCHECK) -db file://$(CURDIR)/$(VULNDB) $(PACKAGES)

# indexdb turns the module's OSV reports (data/osv) into the v1 database govulncheck
# reads; written to a temporary folder and renamed, so an interrupted build leaves none.
$(VULNDB)/index/db.json:
	GOFLAGS= go mod download golang.org/x/vulndb@$(VULNDB_VERSION)
	rm -rf $(VULNDB).tmp && mkdir -p .cache
	GOFLAGS= go run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) \
	  -vulns "$$(GOFLAGS= go list -m -f '{{.Dir}}' golang.org/x/vulndb@$(VULNDB_VERSION))/data/osv" -out $(VULNDB).tmp
	rm -rf $(VULNDB) && mv $(VULNDB).tmp $(VULNDB)

# Need AWS credentials and the provider downloads; not run in CI. Terraform runs in the
# synthesized stack's directory (what `cdktf deploy` does too, minus the cdktf-cli's native
# terminal module, whose install script package.json does not allow). The synth put
# generated/<stack>.terraform.lock.hcl there, so init verifies the providers against the
# reviewed checksums; whatever init changed in the lock (`terraform init -upgrade` after a
# provider bump, `terraform providers lock -platform=...` for another OS) is copied back at
# once, before apply, so it is kept even when apply fails: review and commit it.
tf-init = cd cdktf.out/stacks/$(1) && terraform init -input=false && cp .terraform.lock.hcl ../../../generated/$(1).terraform.lock.hcl

deploy-state: synth
	$(call tf-init,payments-dr-state) && terraform apply

deploy: synth
	$(call tf-init,payments-dr) && terraform apply

diff: synth
	$(call tf-init,payments-dr) && terraform plan

clean:
	rm -rf cdktf.out cdktf.out.tmp-*
