# Guardrail. `make run` and `make test` work on a fresh machine with nothing but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SANDBOX_PORT ?= 5000
export SANDBOX_PORT

.PHONY: install run test test-unit test-integration bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

# A secret key of this checkout's own, made once and never committed.
.env:
	$(PY) -c 'import secrets; print("SECRET_KEY=" + secrets.token_urlsafe(50))' > .env

run: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Guardrail: http://127.0.0.1:$(PORT)  (sandbox AWS http://127.0.0.1:$(SANDBOX_PORT)); Ctrl-C stops it all."
	WEB_PORT=$(PORT) exec $(VENV)/bin/honcho --procfile Procfile start

test: install
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-integration

# Unit, browser and stack tests: SQLite, eager tasks, the in-process sandbox, Chromium.
test-unit: install
	env -u DATABASE_URL -u CELERY_BROKER_URL $(VENV)/bin/pytest -m "not integration" -q

# Real PostgreSQL and Redis and a real Celery worker, when DATABASE_URL and REDIS_URL are set.
test-integration: install
	GUARDRAIL_INTEGRATION=1 $(VENV)/bin/pytest -m integration -q -rs

# Cloud Custodian, the rules benchmark's anchor, in a venv of its own (it pins another boto3).
.venv-c7n/bin/custodian:
	$(PYTHON) -m venv .venv-c7n
	.venv-c7n/bin/pip install --quiet --disable-pip-version-check c7n

bench: install .venv-c7n/bin/custodian
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && apt-get install -y -qq wrk >/dev/null 2>&1; } \
		|| echo "bench: wrk is not installed; the page benchmark uses its Python loader"
	env -u DATABASE_URL $(PY) -m bench

clean:
	rm -rf $(VENV) var staticfiles
