# Keizoku: `make run` starts the service with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
export UV_LINK_MODE := copy
UV := .tools/bin/uv
PY := .venv/bin/python
PORT ?= 8000
export PORT

.PHONY: help run test test-only lint format setup system-deps system-deps-test vendor bench messages

help:
	@echo "make run    - set up and start the service with demo data on http://localhost:$(PORT)/"
	@echo "make test   - set up and run the whole test suite (browser tests included)"
	@echo "make lint   - ruff, mypy, check --deploy, makemigrations --check"
	@echo "make messages - add new customer-visible strings to locale/en/LC_MESSAGES/django.po"

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

# The English catalogue, compiled from the committed .po by GNU gettext's msgfmt (tools/system-deps.sh).
MO := locale/en/LC_MESSAGES/django.mo
$(MO): locale/en/LC_MESSAGES/django.po
	msgfmt --check -o $@ $<

setup: .venv/.synced $(MO)

# The laptop's own settings: DEBUG on and a random SECRET_KEY, never committed.
.env:
	@printf 'DEBUG=1\nSECRET_KEY=%s\n' "$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "wrote .env (DEBUG=1, a random SECRET_KEY)"

system-deps:
	@tools/system-deps.sh run

system-deps-test:
	@tools/system-deps.sh test

# A laptop's host names unless the environment says otherwise (DEBUG=0 needs them set).
run: export ALLOWED_HOSTS ?= localhost,127.0.0.1,[::1]
run: system-deps setup .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo --if-empty
	@echo
	@echo "  Keizoku is starting on http://localhost:$(PORT)/"
	@echo "    agency site:  http://localhost:$(PORT)/agency/DEMO/"
	@echo "    MyPage login: http://localhost:$(PORT)/mypage/login/"
	@echo "    mailbox:      http://localhost:$(PORT)/dev/mailbox/ (DEBUG on)"
	@echo "  The demo contracts above can be used to register. Ctrl-C stops the server and the worker."
	@echo
	@# The settings read .env themselves, the environment winning; honcho would let .env win.
	exec .venv/bin/honcho start --procfile Procfile --env /dev/null

test: system-deps-test setup test-only

test-only:
	$(PY) -m pytest $(PYTEST_ARGS)

# Production settings for the checks that read them: DEBUG off, a throwaway key made here, a real
# site's host name and HTTPS, PostgreSQL (named, never connected to), no laptop .env.
PROD_ENV = DEBUG=0 SECRET_KEY="$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	ALLOWED_HOSTS=keizoku.example BASE_URL=https://keizoku.example \
	DATABASE_URL=postgres://keizoku@127.0.0.1:5432/keizoku KEIZOKU_DOTENV=/nonexistent

# Lint, types (mypy + django-stubs, pyproject's [tool.mypy]), the deployment checks failing on a
# warning, and no model change without its migration (an in-memory database: nothing written).
lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	$(PROD_ENV) .venv/bin/mypy
	$(PROD_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(PROD_ENV) DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# After adding or changing a customer-visible string: its msgid lands in the English catalogue
# (untranslated until you write its English; tests/test_i18n_catalogue.py says which).
messages: setup
	$(PY) manage.py messages

# Refresh the vendored front-end assets from the npm registry (committed; not needed to run).
vendor:
	npm install --no-save --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js keizoku/core/static/vendor/htmx.min.js
	cp node_modules/@digital-go-jp/design-tokens/dist/tokens.css keizoku/core/static/vendor/design-tokens.css

# Each script prints its figures and whether it met its goal; a miss does not stop the others.
bench: setup
	-$(PY) bench/bench_import.py
	-$(PY) bench/bench_login.py
	-$(PY) bench/bench_journey.py
	-$(PY) bench/bench_capacity.py
	-$(PY) bench/bench_reminders.py
	-$(PY) bench/bench_rating.py
	-$(PY) bench/bench_chat.py
