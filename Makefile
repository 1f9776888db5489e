# The two commands: `make demo` (the end-to-end story on an embedded Anvil) and `make test`.
# Each installs what it needs (Python venv from requirements/lock.txt, npm ci, the solc launcher in
# .solcx/ of this checkout) and does nothing more when nothing changed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FOUNDRY_BINS := $(CURDIR)/node_modules/@foundry-rs/anvil-linux-amd64/bin:$(CURDIR)/node_modules/@foundry-rs/cast-linux-amd64/bin
export PATH := $(CURDIR)/$(BIN):$(FOUNDRY_BINS):$(PATH)
# py-solc-x and ape-solidity look for the compiler here: this checkout's own launcher, never ~/.solcx
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup demo test lint slither bench artifacts lock clean postgres bench-index

help:
	@echo "make demo       the main job: one Hong Kong -> Shanghai shipment end to end on an embedded Anvil"
	@echo "make test       run the whole test suite (Ape + pytest on a local Anvil)"
	@echo "make setup      install the toolchain only (venv, npm ci, solc launcher)"
	@echo "make artifacts  regenerate src/ebl_client/artifacts from contracts/"
	@echo "make lint       ruff + mypy --strict on src/"
	@echo "make slither    static analysis of contracts/ (fails on any unjustified medium or high finding)"
	@echo "make postgres   install PostgreSQL from Debian (root): the index tests start a throwaway server"
	@echo "make bench      gas per function, and the client's throughput next to the node's ceiling (a table and"
	@echo "                bench/results/<date>.json; wall-clock figures are machine-dependent, never asserted)"
	@echo "make bench-index  index 10,000 bill lifecycles on SQLite and PostgreSQL (BENCH_ARGS=--bills N)"

$(VENV)/.installed: pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --requirement requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error 1>&2
	touch $@

setup: $(VENV)/.installed node_modules/.installed
	@bash tools/solc/install-launcher.sh 1>&2

artifacts: setup
	$(BIN)/python tools/build_artifacts.py

demo: setup
	@$(BIN)/python -m ebl_client.demo $(DEMO_ARGS)

# Ape recompiles only the files that changed, not their dependents: recompile everything when any
# contract changed, so tests never run against a stale build. Then drop Ape's copy of OpenZeppelin in
# contracts/.cache: Ape lists at most 500 files under contracts/ when it looks for sources, and with
# OpenZeppelin's ~450 files inside, our own contracts may fall past that limit ("no attribute
# ParticipantRegistry"). The compiled manifest in .build/ keeps everything the tests need.
CONTRACTS := $(shell find contracts -name '*.sol' -not -path '*/.cache/*')
.build/.compiled: $(CONTRACTS) ape-config.yaml | setup
	$(BIN)/ape compile --force
	rm -rf contracts/.cache
	touch $@

test: setup .build/.compiled
	rm -rf contracts/.cache
	$(BIN)/ape test --network ethereum:local:foundry $(TEST_ARGS)

lint: setup
	$(BIN)/ruff check $(wildcard src tests scripts bench tools networks)
	$(BIN)/mypy

# Gas per function (bench/gas.py --json, as it is) and the client's send path next to the raw ceiling measured
# in the same run on the same node (bench/throughput.py): one table on stdout, every figure in the JSON file.
bench: setup
	$(BIN)/python bench/throughput.py --gas --out bench/results/$$(date -u +%Y-%m-%d).json

# slither has its own venv: its pins (web3, eth-*) must not move the project's.
.venv-slither/.installed: tools/slither/requirements.txt
	test -x .venv-slither/bin/python || $(PYTHON) -m venv .venv-slither
	.venv-slither/bin/pip install --quiet --requirement tools/slither/requirements.txt
	touch $@

slither: setup .venv-slither/.installed
	bash tools/slither/run.sh

# The index tests (tests/index) run every indexer test on SQLite and on a throwaway PostgreSQL server built
# from Debian's binaries (ebl_client.index.pgserver; $$EBL_PG_BIN to use others). Nothing is skipped.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "PostgreSQL: $$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	else echo "install PostgreSQL: sudo apt-get install -y postgresql (or set EBL_PG_BIN)" >&2; exit 1; fi

bench-index: setup
	$(BIN)/python bench/index.py $(BENCH_ARGS)

lock:
	rm -rf /tmp/ebl-lock-venv && $(PYTHON) -m venv /tmp/ebl-lock-venv
	/tmp/ebl-lock-venv/bin/pip install --quiet ".[dev]"
	(echo "# Exact Python dependency set (runtime + dev), resolved on Python 3.11. Regenerate: make lock"; \
	  /tmp/ebl-lock-venv/bin/pip freeze --exclude ebl-client) > requirements/lock.txt

clean:
	rm -rf .build contracts/.cache .pytest_cache
