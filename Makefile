# citysense: the two commands of README.md, and a few helpers.
#   make demo   - the main job (installs, starts the local stack, runs the demo)
#   make test   - the test suite (installs, starts the local stack, runs pytest)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test rehearsal bench install stack-up stack-down stack-status unit

install:
	@bash deploy/local/install.sh

demo: install
	@$(BIN)/citysense demo

test: install
	@$(BIN)/citysense stack up
	@$(BIN)/pytest

# the production rehearsal's faults on a 3-node KRaft cluster with TLS and SCRAM (stack/cluster.py); part of `make test`
rehearsal: install
	@$(BIN)/citysense stack up
	@$(BIN)/pytest -p no:cacheprovider tests/integration/faults/test_cluster.py

bench: install
	@$(BIN)/pip install -q --disable-pip-version-check -e ".[test,bench]" > .stack/logs/pip-bench.log 2>&1 || \
	  { tail -20 .stack/logs/pip-bench.log; exit 1; }
	@$(BIN)/citysense stack up
	@$(BIN)/python -m bench.run $(if $(PEER),--peer $(PEER))

unit: install
	@$(BIN)/pytest tests/unit -q

stack-up: install
	@$(BIN)/citysense stack up

stack-status:
	@$(BIN)/citysense stack status

stack-down:
	@$(BIN)/citysense stack down
