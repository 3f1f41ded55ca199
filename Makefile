# evaltools: the two commands a newcomer runs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Tested versions of every dependency; `make lock` refreshes it from the current venv.
CONSTRAINTS := constraints.txt

.PHONY: demo test test-all lab notebooks lint format lock clean benchmarks docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Install the package (editable) and register the venv's kernel as "evaltools", so that
# papermill and JupyterLab run the notebooks in this environment.
$(VENV)/.installed-main: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name evaltools --display-name "Python (evaltools)" >/dev/null
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-main
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[test]"
	touch $@

$(VENV)/.installed-lab: $(VENV)/.installed-main
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[lab]"
	touch $@

## demo: set up .venv and render every demo grantee's report into reports/
demo: $(VENV)/.installed-main
	$(BIN)/evaltools demo --out reports

## test: set up .venv with the test extras and run the whole suite (nbval included)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadfile

## test-all: the whole suite including tests marked slow
test-all: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "slow or not slow"

## lab: JupyterLab in the project environment, demo data ready
lab: $(VENV)/.installed-lab
	$(BIN)/evaltools demo --data-only
	$(BIN)/jupyter lab --notebook-dir=notebooks

## notebooks: re-execute the shipped notebooks in place on the demo data (refreshes nbval's reference outputs)
notebooks: $(VENV)/.installed-main
	$(BIN)/evaltools demo --data-only
	cd notebooks && for nb in *.ipynb; do ../$(BIN)/papermill --cwd . -k evaltools "$$nb" "$$nb" || exit 1; done

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/python tools/docs_gen.py --check \
		&& $(BIN)/python tools/results_doc.py --check

## docs: regenerate docs/params.md and docs/results.md from the parameter and results schemas
docs: $(VENV)/.installed-main
	$(BIN)/python tools/docs_gen.py
	$(BIN)/python tools/results_doc.py

format: $(VENV)/.installed-test
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

## lock: write the tested versions of the current venv to constraints.txt
lock:
	$(PIP) freeze --exclude-editable | grep -v '^evaltools' > $(CONSTRAINTS)

# The register benchmark's peers (pyfixest, PanelOLS, csdid, diff-diff) live in a venv of
# their own, so that their dependencies never move the project's tested versions.
PEERS_VENV := .venv-peers
PEERS := pyfixest==0.60.0 csdid==0.4.3 diff-diff==3.13.0 linearmodels==7.1 pyarrow duckdb psutil
$(PEERS_VENV)/.installed:
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet $(PEERS)
	touch $@

## benchmarks: the performance measurements against their baselines (slow; see docs/performance.md)
benchmarks: $(VENV)/.installed-test $(PEERS_VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[test,bench]"
	$(BIN)/python benchmarks/panel_scale.py
	$(BIN)/python benchmarks/register_scale.py --peers-python $(PEERS_VENV)/bin/python
	$(BIN)/python benchmarks/batch_throughput.py --grantees 24 --typst
	$(BIN)/python benchmarks/batch_scale.py
	$(BIN)/python benchmarks/params_loading.py

clean:
	rm -rf reports data/demo .pytest_cache
