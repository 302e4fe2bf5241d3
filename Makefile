# orderledger: `make run` starts the ledger with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint typecheck unit system-packages clean bench bench-full fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/orderledger demo --if-empty
	@printf 'broker API key (shown once): %s\n' "$$($(BIN)/orderledger keys create --role broker --label 'make run' 2>/dev/null)"
	$(BIN)/orderledger serve --host $(HOST) --port $(PORT)

system-packages:
	bash deploy/system-packages.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

# Starts a real PostgreSQL and a real Kafka broker (deploy/test-services.sh), runs every test, stops both.
test: install system-packages lint typecheck
	bash deploy/kafka/kafka.sh fetch
	bash deploy/focus/focus-validator.sh install
	bash deploy/asyncapi/asyncapi-validate.sh --install
	TEST_REQUIRE_ASYNCAPI=1 bash deploy/test-services.sh $(BIN)/pytest

# The long fuzz campaign: schemathesis over every operation of /openapi.json with the broker's key, what the
# schema allows and what it does not, FUZZ_EXAMPLES examples each, and the extremes of dates and amounts in the
# commands' real bodies; 0 server errors or it fails. `make test` runs the same checks with 6 examples.
FUZZ_EXAMPLES ?= 200
fuzz: install
	mkdir -p var
	ORDERLEDGER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ORDERLEDGER_FUZZ_REPORT=$(CURDIR)/var/fuzz-report.json \
		$(BIN)/pytest -q tests/e2e/test_openapi_fuzz.py
	@cat var/fuzz-report.json | head -4

# Benchmarks (bench/README.md): every workload, the peer library and the limit, on PostgreSQL and Kafka
# started by the same script as the tests; writes bench/results/latest.json and latest.md.
bench: install system-packages
	bash deploy/kafka/kafka.sh fetch
	bash deploy/test-services.sh $(BIN)/python -m bench --profile quick

bench-full: install system-packages
	bash deploy/kafka/kafka.sh fetch
	bash deploy/test-services.sh $(BIN)/python -m bench --profile full

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
