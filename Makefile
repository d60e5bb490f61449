# ModernTensor: two commands for a new user, `make run` and `make test`.
# Everything they need is installed here, into ignored folders of this repo.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
COMETBFT_VERSION := v0.38.25
TOOLS := $(CURDIR)/.tools/bin
COMETBFT := $(TOOLS)/cometbft
STAMP := $(VENV)/.installed
ML_STAMP := $(VENV)/.installed-ml
PROMETHEUS := $(CURDIR)/.tools/prometheus/usr/bin/prometheus
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PROTO_STAMP := abci_app/_proto/.generated
HOME_DIR ?= .data

.PHONY: run test bench lint format deps ml cometbft prometheus chromium proto clean reset help localnet localnet-stop e2e fuzz

help:
	@echo "make run    - install what is missing and run a single-node chain in $(HOME_DIR)/"
	@echo "make test   - install what is missing, lint, and run the whole test suite"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make ml     - install the [ml] extra (digits task, subnet demo chart)"
	@echo "make bench  - run the benchmarks and rewrite bench/RESULTS.md (about 6 minutes)"
	@echo "make e2e    - run every manifest in e2e/manifests/ and print one table"
	@echo "make fuzz   - fuzz each target (tx, frames, genesis, query) for FUZZ_SECONDS (300)"
	@echo "make reset  - delete the local chain in $(HOME_DIR)/ (keys included)"
	@echo "make localnet [VALIDATORS=N] - start an N-validator localnet in .localnet/ (default 4)"
	@echo "make localnet-stop - stop it"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

deps: $(STAMP)

# The [ml] extra (scikit-learn, matplotlib): the digits task and `subnet demo`. `make run` does
# not need it; `make test` installs it.
$(ML_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,ml]'
	touch $(ML_STAMP)

ml: $(ML_STAMP)

$(COMETBFT):
	@mkdir -p $(TOOLS)
	@echo "installing cometbft $(COMETBFT_VERSION) with go install (takes a minute the first time)"
	GOBIN=$(TOOLS) go install github.com/cometbft/cometbft/cmd/cometbft@$(COMETBFT_VERSION)

cometbft: $(COMETBFT)

# Prometheus for the monitoring test: Debian's package, unpacked into .tools (no root, no
# system change). `apt-get download` fetches the .deb; `dpkg-deb -x` unpacks it.
$(PROMETHEUS):
	@mkdir -p .tools/deb .tools/prometheus
	@echo "fetching Prometheus from Debian's packages (apt-get download; unpacked into .tools)"
	cd .tools/deb && (apt-get download prometheus 2>/dev/null || \
		(apt-get update -qq && apt-get download prometheus))
	dpkg-deb -x .tools/deb/prometheus_*.deb .tools/prometheus
	rm -rf .tools/deb
	@test -x $(PROMETHEUS)

prometheus: $(PROMETHEUS)

# Debian's Chromium for the explorer's browser test (Playwright drives it; it downloads no
# browser of its own). A system package: installed with apt-get (as root, or through sudo).
$(CHROMIUM):
	@echo "installing Debian's chromium for the explorer test (apt-get install chromium)"
	$(SUDO) apt-get install -y -q chromium || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -q chromium)

chromium: $(CHROMIUM)

$(PROTO_STAMP): $(STAMP) $(COMETBFT) scripts/gen_proto.py $(wildcard proto/moderntensor/*/*/*.proto)
	@# go install leaves the module (and its .proto files) in the module cache; make sure of it
	@test -d "$$(go env GOMODCACHE)/github.com/cometbft/cometbft@$(COMETBFT_VERSION)/proto" || \
		go mod download github.com/cometbft/cometbft@$(COMETBFT_VERSION)
	$(PY) scripts/gen_proto.py
	touch $(PROTO_STAMP)

proto: $(PROTO_STAMP)

run: $(PROTO_STAMP)
	@if [ ! -f $(HOME_DIR)/node.json ]; then $(VENV)/bin/moderntensor --home $(HOME_DIR) node init; fi
	$(VENV)/bin/moderntensor --home $(HOME_DIR) node start

localnet: $(PROTO_STAMP)
	$(VENV)/bin/moderntensor localnet start --validators $(or $(VALIDATORS),4)
	$(VENV)/bin/moderntensor localnet status

localnet-stop: $(STAMP)
	$(VENV)/bin/moderntensor localnet stop

lint: $(PROTO_STAMP)
	$(VENV)/bin/ruff check abci_app tests scripts bench examples
	$(VENV)/bin/ruff format --check abci_app tests scripts bench examples
	$(VENV)/bin/mypy abci_app

format: $(STAMP)
	$(VENV)/bin/ruff check --fix abci_app tests scripts bench examples
	$(VENV)/bin/ruff format abci_app tests scripts bench examples

test: $(PROTO_STAMP) $(ML_STAMP) $(PROMETHEUS) $(CHROMIUM) lint
	MODERNTENSOR_COMETBFT=$(COMETBFT) MODERNTENSOR_PROMETHEUS=$(PROMETHEUS) \
		$(PY) -m pytest -p no:cacheprovider tests

# The benchmark report: runs every scenario on this machine and rewrites bench/RESULTS.md.
bench: $(PROTO_STAMP)
	MODERNTENSOR_COMETBFT=$(COMETBFT) $(PY) bench/run_bench.py

# Every e2e manifest (fault runner): one table of manifest, perturbations, invariants, blocks,
# txs committed and time. Exit 1 if any invariant broke (failed runs keep their node folders).
e2e: $(PROTO_STAMP)
	MODERNTENSOR_COMETBFT=$(COMETBFT) $(VENV)/bin/moderntensor e2e run e2e/manifests/*.toml

# Coverage-guided fuzzing (atheris), each target alone; `make test` runs a short bounded one.
FUZZ_SECONDS ?= 300
fuzz: $(PROTO_STAMP)
	for t in tx frames genesis query; do \
		$(PY) scripts/fuzz.py $$t --seconds $(FUZZ_SECONDS) --corpus .fuzz-corpus/$$t || exit 1; \
	done

reset:
	rm -rf $(HOME_DIR)

clean:
	rm -rf $(VENV) .tools abci_app/_proto .mypy_cache .ruff_cache .pytest_cache
