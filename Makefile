# case56 — the two commands a newcomer needs:
#   make demo   set everything up and run the app on SQLite with demo data (http://127.0.0.1:5000/)
#   make test   set everything up and pass the tests (SQLite and PostgreSQL, browser tests included)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := chromium fonts-dejavu-core poppler-utils nginx openssl
BENCH_APT_PACKAGES := wrk
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

DEMO_APT_PACKAGES := fonts-dejavu-core

.PHONY: demo test setup system venv lint bench clean catalogs translations wheel

# The demo needs the font the dossier PDF draws Vietnamese with (and nothing else from Debian).
demo: venv catalogs
	@$(MAKE) --no-print-directory system APT_PACKAGES="$(DEMO_APT_PACKAGES)"
	$(BIN)/case56 demo

test: system venv catalogs
	$(BIN)/ruff check engine forms web tests bench
	$(BIN)/mypy
	CASE56_TEST_PG=$(PG_URL) $(BIN)/pytest -q -n 2  # both cores: each worker has its own SQLite file and PostgreSQL schema

setup: system venv

# Debian packages: a browser for the end-to-end tests, a font that covers Vietnamese for PDFs, nginx and
# openssl for the multi-node test (tests/ops/test_multinode.py: TLS proxy in front of two web nodes),
# poppler for reading PDFs back as pictures. Skipped when installed (a removed package whose configuration
# files remain is not installed: `dpkg -s` would say it is).
system:
	@missing=""; for p in $(APT_PACKAGES) $(EXTRA_APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(BIN)/case56 node_modules/.package-lock.json

# bpmn-moddle (the parser of bpmn.io and Camunda Modeler) for the BPMN round-trip test: exact versions from
# package-lock.json, no browser download.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

$(BIN)/case56: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $(BIN)/case56

# The English catalogue (web/translations/en/*.po → messages.mo); a built wheel compiles its own (setup.py).
catalogs: venv
	$(BIN)/python -m web.i18n compile >/dev/null

# extract → update → compile: new messages land in web/translations/en/new.po for a translator.
translations: venv
	$(BIN)/python -m web.i18n extract
	$(BIN)/python -m web.i18n update
	$(BIN)/python -m web.i18n compile

wheel: venv
	$(BIN)/pip wheel -q --no-deps -w dist .

lint: venv
	$(BIN)/ruff check engine forms web tests bench
	$(BIN)/mypy

# The HTTP measurement drives the app with wrk (Debian's package).
bench: venv
	$(MAKE) system EXTRA_APT_PACKAGES="$(BENCH_APT_PACKAGES)"
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance test-artifacts
