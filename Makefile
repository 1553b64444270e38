# The two set-up commands for a fresh machine (see README):
#   make demo   paint the bundled demo clip with a bundled style (runtime only: no torch)
#   make test   lint + the test suite (what CI runs, through .ci/run)
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch/torchvision pins this project is tested with (CUDA build; runs on CPU too).
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint format clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Everything: runtime + training extra + dev tools.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH_PINS)
	$(BIN)/python -m pip install -q -e '.[train,dev]'
	touch $@

# The runtime alone (numpy, OpenCV, ONNX Runtime, PyAV): enough for the demo, minutes faster than torch.
$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# The bundled demo clip through the bundled starry_night model, flow smoothing, audio kept:
# writes stylecam-demo/demo_starry_night.mp4 and a side-by-side image, and prints where.
demo: $(VENV)/.installed-runtime
	$(BIN)/stylecam demo

# The browser test of `stylecam serve` drives Debian's Chromium (never a browser download): installed
# here when missing, where apt-get exists and we are root (CI); elsewhere that one test is skipped.
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser test of stylecam serve"; \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null \
			|| echo "WARNING: apt-get could not install chromium: the browser test will be skipped"; \
	else echo "no chromium (and no root apt-get to install it): the browser test will be skipped"; fi

test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build dist *.egg-info demo-output stylecam-demo
