# The two commands: `make demo` (the end-to-end story on an embedded Anvil) and `make test`.
# Each installs what it needs and does nothing more when nothing changed: npm ci, the solc launcher in
# .solcx/ of this checkout, and the Python environment it runs in, each from its own exact set in requirements/:
#   .venv       runtime.txt  what `pip install .` brings (the client, every ebl command, the demo), newest versions
#   .venv-test  test.txt     the same newest runtime set + the test tools and linters (client, index, service tests)
#   .venv-ape   ape.txt      Ape and its pins (web3 7, eth-account 0.13, click 8.1) for the contract tests and
#                            the client's smoke tests on those older versions
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TEST_VENV := .venv-test
APE_VENV := .venv-ape
FOUNDRY_BINS := $(CURDIR)/node_modules/@foundry-rs/anvil-linux-amd64/bin:$(CURDIR)/node_modules/@foundry-rs/cast-linux-amd64/bin
export PATH := $(FOUNDRY_BINS):$(PATH)
# py-solc-x and ape-solidity look for the compiler here: this checkout's own launcher, never ~/.solcx
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup setup-test demo test test-client test-contracts test-demo lint slither bench artifacts lock \
	clean postgres bench-index

help:
	@echo "make demo       the main job: one Hong Kong -> Shanghai shipment end to end on an embedded Anvil"
	@echo "make test       the whole test suite: the demo in the runtime-only .venv, the client's, index's and"
	@echo "                service's tests on the newest versions (.venv-test), the contracts' under Ape (.venv-ape)"
	@echo "                (parts: make test-demo, test-client, test-contracts; TEST_ARGS go to both pytest runs)"
	@echo "make setup      install the runtime toolchain only (.venv, npm ci, solc launcher)"
	@echo "make artifacts  regenerate src/ebl_client/artifacts from contracts/"
	@echo "make lint       ruff + mypy --strict on src/ (against the newest runtime versions)"
	@echo "make slither    static analysis of contracts/ (fails on any unjustified medium or high finding)"
	@echo "make postgres   install PostgreSQL from Debian (root): the index tests start a throwaway server"
	@echo "make bench      gas per function, and the client's throughput next to the node's ceiling (a table and"
	@echo "                bench/results/<date>.json; wall-clock figures are machine-dependent, never asserted)"
	@echo "make bench-index  index 10,000 bill lifecycles on SQLite and PostgreSQL (BENCH_ARGS=--bills N)"
	@echo "make lock       re-resolve requirements/*.txt on the newest versions pyproject.toml allows"

# A venv from its exact set (the first prerequisite), built afresh when the set changes, so nothing of an
# earlier set stays behind (the runtime venv must hold the runtime set only); then this checkout, editable,
# installed again (quickly, without dependencies) when pyproject.toml changes.
define make-venv
rm -rf $(@D) && $(PYTHON) -m venv $(@D)
$(@D)/bin/pip install --quiet --requirement $<
touch $@
endef
define install-project
$(@D)/bin/pip install --quiet --no-deps --editable .
touch $@
endef

$(VENV)/.set: requirements/runtime.txt
	$(make-venv)
$(VENV)/.installed: $(VENV)/.set pyproject.toml
	$(install-project)

$(TEST_VENV)/.set: requirements/test.txt
	$(make-venv)
$(TEST_VENV)/.installed: $(TEST_VENV)/.set pyproject.toml
	$(install-project)

$(APE_VENV)/.set: requirements/ape.txt
	$(make-venv)
$(APE_VENV)/.installed: $(APE_VENV)/.set pyproject.toml
	$(install-project)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error 1>&2
	touch $@

setup: $(VENV)/.installed node_modules/.installed
	@bash tools/solc/install-launcher.sh 1>&2

setup-test: setup $(TEST_VENV)/.installed $(APE_VENV)/.installed

artifacts: setup $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python tools/build_artifacts.py

demo: setup
	@$(VENV)/bin/python -m ebl_client.demo $(DEMO_ARGS)

# Ape recompiles only the files that changed, not their dependents: recompile everything when any
# contract changed, so tests never run against a stale build. Then drop Ape's copy of OpenZeppelin in
# contracts/.cache: Ape lists at most 500 files under contracts/ when it looks for sources, and with
# OpenZeppelin's ~450 files inside, our own contracts may fall past that limit ("no attribute
# ParticipantRegistry"). The compiled manifest in .build/ keeps everything the tests need.
CONTRACTS := $(shell find contracts -name '*.sol' -not -path '*/.cache/*')
.build/.compiled: $(CONTRACTS) ape-config.yaml | setup $(APE_VENV)/.installed
	$(APE_VENV)/bin/ape compile --force
	rm -rf contracts/.cache
	touch $@

# The client's smoke tests under Ape's older pins (web3 7, eth-account 0.13, click 8.1): the client declares
# both ranges, so both are exercised; the full client suite runs on the newest versions in test-client.
WEB3_7_SMOKE := tests/client/test_chain.py tests/client/test_pipeline.py tests/client/test_review_findings.py \
	tests/client/test_outbox.py tests/client/test_cli_bills.py

test: test-demo test-client test-contracts

# The demo in the runtime-only venv, as `make demo` runs it, on a chain and in folders of its own.
test-demo: setup
	d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && $(VENV)/bin/ebl demo --state-file "$$d/anvil-state.json" \
	  --deployments "$$d/deployments" --work-dir "$$d/demo" > "$$d/report.txt" \
	  || { cat "$$d/report.txt"; exit 1; }

test-client: setup $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/pytest --ignore=tests/contracts $(TEST_ARGS)

test-contracts: setup $(APE_VENV)/.installed .build/.compiled
	rm -rf contracts/.cache
	$(APE_VENV)/bin/ape test --network ethereum:local:foundry tests/contracts $(WEB3_7_SMOKE) $(TEST_ARGS)

lint: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/ruff check $(wildcard src tests scripts bench tools networks)
	$(TEST_VENV)/bin/mypy

# Gas per function (bench/gas.py --json, as it is) and the client's send path next to the raw ceiling measured
# in the same run on the same node (bench/throughput.py): one table on stdout, every figure in the JSON file.
bench: setup
	$(VENV)/bin/python bench/throughput.py --gas --out bench/results/$$(date -u +%Y-%m-%d).json

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

bench-index: setup $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python bench/index.py $(BENCH_ARGS)

# test.txt first (the newest set the ranges allow, with the test tools); runtime.txt is the runtime part of that
# same set; ape.txt is Ape's set, sharing the two pins every consortium member must agree on (the ISO 4217
# edition that fixes currencies' minor units, and the JSON canonicalisation) with the others.
LOCK_VENV := /tmp/ebl-lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet ".[postgres,test]"
	(echo "# .venv-test: the newest runtime set + test tools, resolved on Python 3.11. Regenerate: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze --exclude ebl-client) > requirements/test.txt
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet -c requirements/test.txt .
	(echo "# .venv (make demo, pip install .): the runtime set, as in test.txt. Regenerate: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze --exclude ebl-client) > requirements/runtime.txt
	grep -E '^(iso4217|rfc8785)==' requirements/test.txt > $(LOCK_VENV).shared
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet -c $(LOCK_VENV).shared ".[ape]"
	(echo "# .venv-ape: Ape's set (web3 7) for the contract tests, resolved on Python 3.11. Regenerate: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze --exclude ebl-client) > requirements/ape.txt
	rm -rf $(LOCK_VENV) $(LOCK_VENV).shared

clean:
	rm -rf .build contracts/.cache .pytest_cache
