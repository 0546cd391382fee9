# Two commands set everything up: `make run` and `make test`. `make help` lists the rest.
# The first Python 3.10 that really runs (a pyenv shim may exist and still fail).
PYTHON310 ?= $(shell for p in python3.10 /root/.pyenv/versions/3.10.*/bin/python /usr/local/bin/python3.10 /usr/bin/python3.10; do \
  $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# Rasa's telemetry has no server to reach here and only retries; our tests never need it.
export RASA_TELEMETRY_ENABLED ?= false
STAMP := $(VENV)/.installed

.PHONY: help venv model run telegram web chromium nginx scale screenshots lint test test-fast validate bench load lock clean purge report posters

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found: install it (e.g. pyenv install 3.10.13) or run make PYTHON310=/path/to/python3.10"; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(BIN)/pip install -q "pip==24.0"
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)  ## create .venv with every pinned dependency

WEB_STAMP := web/node_modules/.package-lock.json

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund

web: $(WEB_STAMP)  ## install the web chat's socket.io-client from the npm registry (lock file)

chromium:  ## Debian's headless Chromium for the browser tests (never `playwright install`)
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update && apt-get install -y --no-install-recommends chromium; } \
	  || echo "warning: /usr/bin/chromium missing: browser tests will skip"

nginx:  ## Debian's nginx, for `make scale` and its test
	@test -x /usr/sbin/nginx || { [ "$$(id -u)" = 0 ] && apt-get update && apt-get install -y --no-install-recommends nginx; } \
	  || echo "warning: /usr/sbin/nginx missing: make scale cannot start and its test skips"

scale: venv web nginx  ## 2 instances (Rasa + actions) behind nginx on 127.0.0.1:8080, PostgreSQL + Redis (docs/scaling.md)
	@set -a; [ -f .env ] && . ./.env; set +a; $(BIN)/python scripts/scale.py --instances $${INSTANCES:-2}

screenshots: venv web  ## retake docs/screenshots (with `make run` in another terminal)
	$(BIN)/python tests/web/take_screenshots.py http://localhost:5005

model: venv  ## train a model if the data, config or NLU code changed
	@$(BIN)/python scripts/model.py

run: venv web  ## start the bot on localhost:5005 (trains first when needed)
	@scripts/run.sh

telegram: venv  ## only the Telegram runner (Rasa already running on RASA_URL)
	$(BIN)/python -m bot.telegram

validate: venv  ## rasa data validate, strict; content facts have sources; the local help directory
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/python scripts/validate_content.py
	$(BIN)/python scripts/validate_directory.py

report: venv  ## anonymous monthly report: make report MONTH=2026-11 -> reports/2026-11/
	@test -n "$(MONTH)" || { echo "usage: make report MONTH=2026-11"; exit 2; }
	$(BIN)/python scripts/report.py $(MONTH)

posters: venv  ## printable A4 posters per age band with a QR code: make posters URL=https://...
	@test -n "$(URL)" || { echo "usage: make posters URL=https://your-web-chat"; exit 2; }
	$(BIN)/python scripts/posters.py $(URL)

lint: venv  ## ruff (pinned in requirements.lock): lint rules and formatting, configured in pyproject.toml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: venv web chromium nginx  ## all tests: unit, data validation, stories, evaluation on dev.jsonl and the blind holdout set
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/python scripts/validate_content.py
	$(BIN)/python scripts/validate_directory.py
	$(BIN)/python -m pytest -q

test-fast: venv web chromium  ## unit tests only (no training)
	$(BIN)/python -m pytest -q -m "not slow"

bench: venv  ## disclosure->alert; real alert behind a 1,000-case flood; this bot vs the stock `rasa init` bot; BENCH_ARGS=--nlu: NLU vs default pipeline
	$(BIN)/python scripts/bench_handoff.py
	$(BIN)/python scripts/bench_flood.py
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

purge: venv  ## delete conversations older than RETENTION_DAYS (30) and anonymise old closed cases
	$(BIN)/python scripts/purge.py

load: venv  ## 20 concurrent conversations for 5 minutes: errors, lost replies, latency, memory
	$(BIN)/python scripts/load.py

lock: venv  ## re-pin requirements.lock from the venv
	$(BIN)/pip freeze --exclude-editable | sed '1i # Pinned by `pip freeze` from a venv with rasa 3.6.21 on Python 3.10. Regenerate with `make lock`.' > requirements.lock

clean:  ## remove trained models and test results
	rm -rf models results .pytest_cache
