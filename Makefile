# Two commands do all the set-up: `make play` and `make test`. Each makes the virtualenv on first use;
# `make test` also installs the Debian packages its real-part tests use (JACK, liblo's OSC tools,
# espeak-ng, Xvfb, 7-Zip and zpaq for the cards' references), when run as root on Debian/Ubuntu;
# elsewhere it names them.
# torch comes as the CPU build 2.13.0: on Linux, where PyPI's torch is a multi-GB CUDA build, from
# PyTorch's CPU index when no index pip already knows has it; for CUDA on Linux:
# make play TORCH=torch==2.13.0 TORCH_INDEX=
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ifeq ($(shell uname -s),Linux)
TORCH       ?= torch==2.13.0+cpu
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
else
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
endif
# setuptools' build prints banners of notes on an editable install; they are not for a performer
QUIET  := PYTHONWARNINGS=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
DEBS   := jackd2 liblo-tools espeak-ng alsa-utils sox xvfb xauth libgl1-mesa-dri libgl1 libegl1 imagemagick p7zip-full zpaq
TOOLS  := jackd oscsend oscdump espeak-ng aplay soxi Xvfb 7z zpaq

.PHONY: play test venv system-deps
venv: $(STAMP)

$(STAMP): pyproject.toml setup.py instrument/core/_lstm_kernel.c instrument/core/_memory_kernel.c
	python3 -m venv $(VENV)
	$(QUIET) $(PY) -m pip install -q --upgrade pip
	$(QUIET) $(PY) -m pip install -q '$(TORCH)' 2>/dev/null || \
	  $(QUIET) $(PY) -m pip install -q $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) '$(TORCH)'
	$(QUIET) $(PY) -m pip install -q -e '.[all,test]'
	touch $@

system-deps:
	@missing=""; for t in $(TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (Debian: $(DEBS))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBS) >/dev/null; \
	  else \
	    echo "missing$$missing: the tests that use them will be skipped (Debian: apt-get install $(DEBS))"; \
	  fi; \
	fi

play: $(STAMP)
	$(VENV)/bin/instrument play $(ARGS)

test: $(STAMP) system-deps
	$(PY) -m pytest -q $(ARGS)
