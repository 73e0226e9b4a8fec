# The two commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv messages lint bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# Compiled catalogues are committed; recompile when gettext is available.
messages: venv
	@if command -v msgfmt >/dev/null; then $(BIN)/python manage.py compilemessages -v0 --ignore=.venv; fi

run: venv messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --if-empty
	@echo "Serving http://$(HOST):$(PORT)/  (users office, handler, leader, handler2, liaison; password demo-pass-2025)"
	trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A config.celery_app worker --beat --loglevel=INFO --concurrency=1 & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: venv
	$(BIN)/ruff check .

test: venv messages lint
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var build
