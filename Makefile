# The two commands: `make run` (the whole product, embedded, with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint format install bench worker beat schema

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	PYTHON=$(PY) ./bin/serve

test: install
	./bin/ensure-chromium
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install
	$(VENV)/bin/celery -A csn worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A csn beat --loglevel=INFO

bench: install
	$(PY) -m bench

# The committed OpenAPI schema (docs/openapi.yaml) and the digest docs/changelog.md must record for it.
# Run it with DATABASE_URL set to PostgreSQL: integer bounds of model fields follow the database.
schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml
	$(PY) -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'csn.settings'); django.setup(); \
	from csn.api.contract import committed_schema, schema_digest; \
	print('Schema digest: \`sha256:' + schema_digest(committed_schema()) + '\`')"
