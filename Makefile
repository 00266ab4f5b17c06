# Two commands on a fresh clone: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-full venv data bench release clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" -c constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[torch,dev]"
	touch $(STAMP)

venv: $(STAMP)

# Real corpora into the user cache ($NLPDOJO_DATA or ~/.cache/nlpdojo/data); idempotent: cached
# data sets are only verified, so repeated runs take a second.
data: $(STAMP)
	$(BIN)/dojo data fetch --all --quiet

demo: data
	$(BIN)/dojo backends
	$(BIN)/dojo plugins

test: data
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) build dist *.egg-info
