# The two set-up commands for a fresh machine (see README):
#   make demo   run stylecam on a bundled default
#   make test   lint + the test suite (what CI runs, through .ci/run)
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch/torchvision pins this project is tested with (CUDA build; runs on CPU too).
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Everything: runtime + training extra + dev tools.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q $(TORCH_PINS)
	$(BIN)/python -m pip install -q -e '.[train,dev]'
	touch $@

# Until the runtime lands, the demo paints a bundled CC0 photo in a bundled public-domain style.
demo: $(VENV)/.installed-dev
	mkdir -p demo-output
	$(BIN)/stylecam paint stylecam/assets/photos/coffee.jpg stylecam/assets/styles/starry_night.jpg \
		-o demo-output/coffee_starry_night.png --size 256 --steps 150

test: $(VENV)/.installed-dev
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
	rm -rf $(VENV) build dist *.egg-info demo-output
