# The two commands of the README: `make run` and `make test`. Everything else is set-up they depend on.
# Set-up steps are stamped, so a second run costs nothing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-deps.stamp
DEV_STAMP := $(VENV)/.dev-deps.stamp
SYSTEM_STAMP := var/.system-deps.stamp
PYTEST_ARGS ?=

.PHONY: run test test-fast bench check install install-dev system-deps search-node clean

run: install
	$(BIN)/hotline run

test: install-dev
	$(BIN)/hotline search-node exec -- $(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything but the tests marked slow (JVM restarts, storms, browsers, long data and training runs): a quick loop.
test-fast: install-dev
	$(BIN)/hotline search-node exec -- $(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Benchmarks (reduced sizes, under 10 minutes); results in bench/results/latest.md.
bench: install-dev
	$(BIN)/python -m bench.run

# Types (mypy --strict) and the architecture contracts of setup.cfg [importlinter].
check: install-dev
	$(BIN)/mypy
	$(BIN)/lint-imports

# Running needs only the runtime packages (no torch: the transformers backend is optional); the tests, the
# benchmarks and the checks add the dev tools and the transformers extra, whose backend the tests exercise.
install: system-deps $(RUN_STAMP) search-node
install-dev: system-deps $(DEV_STAMP) search-node

# Java 17 and Maven run the local Elasticsearch node; unshare (util-linux) lets it run unprivileged as root;
# espeak-ng speaks Vietnamese test audio for the speech-to-text tests; Debian's chromium runs the browser tests;
# wrk drives the webhook benchmark (bench/webhooks.py).
system-deps: $(SYSTEM_STAMP)
$(SYSTEM_STAMP): Makefile  # the list below lives here: a new tool is checked for on the next make
	@missing=""; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v unshare >/dev/null || missing="$$missing util-linux"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y --no-install-recommends $$missing; \
	  else echo "please install:$$missing" >&2; exit 1; fi; \
	fi
	@mkdir -p var && touch $@

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel

$(RUN_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[dev,hf]'
	touch $@

search-node: $(RUN_STAMP)
	$(BIN)/hotline search-node build

clean:
	-$(BIN)/hotline search-node stop
	rm -rf var search_node/target
