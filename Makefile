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
PROTO_STAMP := abci_app/_proto/.generated
HOME_DIR ?= .data

.PHONY: run test lint format deps cometbft proto clean reset help localnet localnet-stop

help:
	@echo "make run    - install what is missing and run a single-node chain in $(HOME_DIR)/"
	@echo "make test   - install what is missing, lint, and run the whole test suite"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make reset  - delete the local chain in $(HOME_DIR)/ (keys included)"
	@echo "make localnet [VALIDATORS=N] - start an N-validator localnet in .localnet/ (default 4)"
	@echo "make localnet-stop - stop it"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

deps: $(STAMP)

$(COMETBFT):
	@mkdir -p $(TOOLS)
	@echo "installing cometbft $(COMETBFT_VERSION) with go install (takes a minute the first time)"
	GOBIN=$(TOOLS) go install github.com/cometbft/cometbft/cmd/cometbft@$(COMETBFT_VERSION)

cometbft: $(COMETBFT)

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
	$(VENV)/bin/ruff check abci_app tests scripts bench
	$(VENV)/bin/ruff format --check abci_app tests scripts bench
	$(VENV)/bin/mypy abci_app

format: $(STAMP)
	$(VENV)/bin/ruff check --fix abci_app tests scripts bench
	$(VENV)/bin/ruff format abci_app tests scripts bench

test: $(PROTO_STAMP) lint
	MODERNTENSOR_COMETBFT=$(COMETBFT) $(PY) -m pytest -p no:cacheprovider tests

reset:
	rm -rf $(HOME_DIR)

clean:
	rm -rf $(VENV) .tools abci_app/_proto .mypy_cache .ruff_cache .pytest_cache
