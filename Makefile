# One-command habits: `make run`, `make test`, `make lint`, `make bench`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
DB ?= cache/partner_roi.duckdb
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-sync demo sync clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DB): | $(STAMP)
	$(PY) -m data_layer demo --db $(DB)

# Streamlit reads STREAMLIT_* environment variables itself (e.g. STREAMLIT_SERVER_PORT), so no flags here override them.
run: $(STAMP) $(DB)
	PARTNER_ROI_DB=$(DB) $(VENV)/bin/streamlit run app.py

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) -m bench.metrics_bench
	$(PY) -m bench.pages_bench
	$(PY) -m bench.feel_bench

bench-sync: $(STAMP)
	$(PY) -m bench.sync_bench
	$(PY) -m bench.sync_concurrent_bench

demo: $(STAMP)
	$(PY) -m data_layer demo --db $(DB)

sync: $(STAMP)
	$(PY) -m data_layer sync --db $(DB)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
