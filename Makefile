# Two commands do all the set-up: `make play` and `make test`. Each makes the virtualenv on first use.
# torch comes as the CPU build 2.13.0; on a Linux machine whose pip would pick a CUDA build, set
# TORCH_INDEX=https://download.pytorch.org/whl/cpu.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH_INDEX ?=

.PHONY: play test venv
venv: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

play: $(STAMP)
	$(VENV)/bin/instrument sample shakespeare --chars 600 $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(ARGS)
