# orderledger: `make run` starts the ledger with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Installs come from uv.lock (README "Installs"). uv is the one on PATH, else this version from PyPI in .venv-uv/.
UV_VERSION := 0.13.8
UV_VENV    := .venv-uv
UV         ?= $(or $(shell command -v uv 2>/dev/null),$(UV_VENV)/bin/uv)
# uv trusts its bundled Mozilla roots only and does not read pip's config (which names the machine's CA bundle):
# without SSL_CERT_FILE it would refuse a TLS-inspecting proxy whose CA only the system store holds.
ifndef SSL_CERT_FILE
export UV_SYSTEM_CERTS ?= 1
endif
# .venv whatever the caller's environment says, built from PYTHON; never a Python downloaded by uv.
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test lint typecheck unit system-packages clean bench bench-full fuzz

$(UV_VENV)/bin/uv:
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install -q uv==$(UV_VERSION)

# `lock --check` fails when pyproject.toml and uv.lock disagree (run `uv lock`); `sync --frozen` then installs
# exactly what the lock holds, the project itself editable.
$(STAMP): pyproject.toml uv.lock | $(filter $(UV_VENV)/%,$(UV))
	$(UV) --version
	$(UV) lock --check --python $(PYTHON)
	$(UV) sync --frozen --extra test --python $(PYTHON)
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
	rm -rf $(VENV) $(UV_VENV) var .pytest_cache .ruff_cache .mypy_cache
