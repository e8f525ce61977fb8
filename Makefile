# The two commands: `make run` (portal + sandbox + worker + beat) and `make test`.
# Both install what they need on a fresh Debian machine with Python 3.11.
# `make verify` (long) adds the production path: the suite on PostgreSQL and Redis.

PYTHON     ?= python3
UV_VERSION := 0.13.9
VENV       := .venv
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
PY         := $(VENV)/bin/python
WEB_PORT     ?= 8000
SANDBOX_PORT ?= 8100
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET    := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
PYTEST_ARGS  ?=
# API fuzzing: generated requests per operation (make verify runs 100).
FUZZ_EXAMPLES ?= 5
export FUZZ_EXAMPLES
export WEB_PORT SANDBOX_PORT UV

.PHONY: run test verify bench gates lint setup system-deps browser-deps messages static demo clean

## make run: set up, migrate, create demo accounts, start everything under honcho.
run: setup .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Portal     http://127.0.0.1:$(WEB_PORT)/"
	@echo "  Admin      http://127.0.0.1:$(WEB_PORT)/admin/"
	@echo "  API docs   http://127.0.0.1:$(WEB_PORT)/api/docs/"
	@echo "  Health     http://127.0.0.1:$(WEB_PORT)/healthz"
	@echo "  Sandbox    http://127.0.0.1:$(SANDBOX_PORT)/health"
	@echo "  Ctrl-C stops all of them."
	@echo ""
	$(VENV)/bin/honcho start

## make test: set up (including Chromium for browser tests), lint, gates, the whole suite.
test: setup browser-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	bash scripts/gates
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## make verify: make test, a strict dependency audit, then the whole suite again on
## PostgreSQL and Redis (installed and started when absent); prints the figures.
verify:
	FUZZ_EXAMPLES=100 bash scripts/verify

## make bench: the five benchmarks of issue 10, each printing its figures beside the limit
## (each also runs alone: see README). Installs wrk, redis-server and PostgreSQL when absent.
bench: setup .env
	@command -v wrk >/dev/null || { $(APT_GET) update && $(APT_GET) install -y --no-install-recommends wrk; }
	@command -v redis-server >/dev/null || { $(APT_GET) update && $(APT_GET) install -y --no-install-recommends redis-server; }
	$(PY) manage.py bench_callbacks
	$(PY) manage.py bench_polling
	DATABASE_URL=$$(bash scripts/postgres-up) $(PY) manage.py bench_reports
	$(PY) manage.py bench_pages
	$(PY) manage.py bench_linkflow --sandbox-url http://127.0.0.1:1

## make gates: migrations, bandit and pip-audit only (scripts/gates).
gates: setup
	bash scripts/gates

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

setup: $(VENV)/.synced system-deps node_modules/.installed messages static

.env:
	cp .env.example .env
	@echo "Created .env from .env.example (sandbox values)."

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

system-deps:
	@command -v msgfmt >/dev/null || { $(APT_GET) update && $(APT_GET) install -y --no-install-recommends gettext; }

browser-deps:
	@command -v chromium >/dev/null || { $(APT_GET) update && $(APT_GET) install -y --no-install-recommends chromium fonts-noto-cjk; }

messages: $(VENV)/.synced system-deps
	DEBUG=true $(PY) manage.py compilemessages --ignore=.venv --ignore=.tools -v 0

static: $(VENV)/.synced node_modules/.installed
	DEBUG=true $(PY) manage.py collectstatic --noinput -v 0

clean:
	rm -rf $(VENV) $(TOOLS) var node_modules
