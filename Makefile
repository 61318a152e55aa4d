# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv first.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-12)

.PHONY: run test lint demo docs-preview lock clean

$(STAMP): requirements.lock
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required")'
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

## run: the bot when a token is set (see README), otherwise the offline demo into ./demo-out/
run: $(STAMP)
	$(BIN)/python -m bot run

## test: lint, type-check and the whole suite (SQLite, PostgreSQL and Redis)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto -m "not serial"
	$(BIN)/pytest -m serial

demo: $(STAMP)
	$(BIN)/python -m bot demo --out demo-out

## docs-preview: every page of the demo's minutes, records and memo as LibreOffice renders them; fails on a blank or scrap page (installs LibreOffice)
docs-preview: $(STAMP)
	PY=$(BIN)/python bash .ci/docs-preview

## lock: re-resolve requirements.lock from pyproject.toml (needs uv: pip install uv)
lock:
	uv pip compile pyproject.toml --group dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache demo-out
