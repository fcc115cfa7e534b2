# Two entry points: `make run` starts the studio, `make test` runs the whole suite.
# Both create or refresh .venv from requirements.txt first, so a fresh clone needs nothing else.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast browser sshd bench clean vllm-env

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/python -m pip check
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python app.py

browser:
	@bash scripts/ensure_browser.sh

sshd:
	@bash scripts/ensure_sshd.sh

test: setup browser sshd
	$(BIN)/python -m pytest -q

# No training, no app process, no browser: the tier to run while editing.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python bench/startup.py

# vLLM pins its own torch and transformers, so it gets an environment of its own (on a GPU machine); point
# LLMOPS_VLLM at the printed path.
VLLM_VENV ?= .venv-vllm
vllm-env:
	@test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --disable-pip-version-check -q vllm
	@echo "export LLMOPS_VLLM=$(abspath $(VLLM_VENV))/bin/vllm"

clean:
	rm -rf $(VENV)
