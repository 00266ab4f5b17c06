# Two commands on a fresh clone: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-full venv data verify release bench results clean lint

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

# The main job: grade the reference solutions of every topic and print the report.
demo: data
	$(BIN)/dojo backends
	$(BIN)/grade --solutions

# Instructors: regenerate exercises/ from solutions/, and prove the course's grading.
release: $(STAMP)
	$(BIN)/dojo release

verify: data
	$(BIN)/dojo verify

# Lint: pyproject.toml's [tool.ruff] settings; exercises/ is generated and excluded there.
lint: $(STAMP)
	$(BIN)/ruff check framework autograder plugins solutions tests bench docs/examples

test: data lint
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) build dist *.egg-info
