# The two commands of the README: `make run` and `make test`. Everything else is set-up they depend on.
# Set-up steps are stamped, so a second run costs nothing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps.stamp
SYSTEM_STAMP := var/.system-deps.stamp
PYTEST_ARGS ?=

.PHONY: run test bench check install system-deps search-node clean

run: install
	$(BIN)/hotline run

test: install
	$(BIN)/hotline search-node exec -- $(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (reduced sizes, under 10 minutes); results in bench/results/latest.md.
bench: install
	$(BIN)/python -m bench.run

check: install
	$(BIN)/mypy

install: system-deps $(DEPS_STAMP) search-node

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

$(DEPS_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,hf]'
	touch $@

search-node: $(DEPS_STAMP)
	$(BIN)/hotline search-node build

clean:
	-$(BIN)/hotline search-node stop
	rm -rf var search_node/target
