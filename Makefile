# Two commands matter: `make book` (build the HTML book) and `make test` (everything CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
BWRAP := /usr/bin/bwrap
PORT ?= 8000
# MathJax is served from the book itself, so equations render without internet.
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax

.PHONY: help install lint typecheck unit nbval nbval-portable nbval-all outputs html browser test book lab serve links times \
	guide student answer-key clean grade grade-check wheel-check

help:
	@echo "make book   build the HTML book into _build/html (creates .venv and installs on first use)"
	@echo "make test   run everything CI runs: lint, unit tests, notebooks, book build, browser check"
	@echo "make lab    open the notebooks in JupyterLab"
	@echo "make outputs  re-execute every notebook in a fresh kernel and store its outputs"
	@echo "make nbval-portable  validate the notebooks under other numerical configurations"
	@echo "make serve  serve the built book on http://127.0.0.1:$(PORT)"
	@echo "make times  measure each notebook's execution time and rewrite the instructor guide"
	@echo "make links  rewrite Colab links after changing the repository URL in _config.yml"
	@echo "make grade SUBMISSIONS=path  score submitted notebooks (ARGS='--csv scores.csv')"
	@echo "make student  write the student editions (solutions removed, plain Markdown) to student/"
	@echo "make answer-key  write the instructors' answer key (rubrics, solutions) to _build/answer_key.md"

# The virtual environment, with the versions we test with pinned by constraints.txt.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[book,dev,instructor]"
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy, configured in pyproject.toml: the package's annotations hold.
typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(BWRAP)
	$(BIN)/pytest tests ode_course course_tools --doctest-modules -q -p no:cacheprovider -n 2

# pytest --nbval with tests/nbval_sanitize.cfg, in kernels set up by course_tools/numeric_configs.py.
nbval: $(STAMP)
	$(BIN)/python -m course_tools nbval --config default

# The same comparison, as another machine would run it: other BLAS kernels, PyTorch's scalar
# kernels, other thread counts (course_tools/numeric_configs.py says which and why). See CONTRIBUTING.md.
nbval-portable: $(STAMP)
	$(BIN)/python -m course_tools nbval

# `make nbval` and `make nbval-portable` at once: three runs side by side keep two cores busy.
nbval-all: $(STAMP)
	$(BIN)/python -m course_tools nbval --with-default

# The one way to store outputs: every notebook re-executed top to bottom in a fresh kernel.
outputs: $(STAMP)
	$(BIN)/python -m course_tools outputs

$(MATHJAX)/tex-mml-chtml.js:
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed once, to copy MathJax into the book"; exit 1; }
	rm -rf _build/npm $(MATHJAX) && mkdir -p _build/npm
	npm install --prefix _build/npm --no-save --no-audit --no-fund --loglevel=error mathjax@$(MATHJAX_VERSION)
	cp -r _build/npm/node_modules/mathjax/es5 $(MATHJAX)

html: $(STAMP) $(MATHJAX)/tex-mml-chtml.js
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(BIN)/python -m course_tools reference --check
	$(BIN)/jupyter-book build . --all -W -n --keep-going

# Debian's Chromium (never a browser downloaded by Playwright), then every page of the book.
$(CHROMIUM):
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium

# Debian's bubblewrap: the grader runs every submission in its own sandbox.
$(BWRAP):
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bubblewrap

browser: $(STAMP) $(CHROMIUM)
	$(BIN)/python tests/browser_check.py --chromium $(CHROMIUM)

# The notebooks are compared under the portable configurations (the default one, which
# `make outputs` stores, is compared by the wheel check, chapters 1 and 6; `make nbval-all` runs
# all three). The wheel check and the book build each keep one core busy: they run side by side.
test: lint typecheck unit grade-check nbval-portable
	$(MAKE) --no-print-directory -j2 wheel-check html
	$(MAKE) --no-print-directory browser
	@echo "make test: all checks passed"

book: html
	@echo
	@echo "The book is built. Open file://$(CURDIR)/_build/html/index.html"
	@echo "or run 'make serve' and visit http://127.0.0.1:$(PORT)/"

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

serve:
	@test -f _build/html/index.html || { echo "No built book: run 'make book' first."; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

links: $(STAMP)
	$(BIN)/python -m course_tools links

# The published student editions: tracked in student/ (outputs cleared), checked by
# tests/test_editions.py. Colab opens them at the release tag vX.Y.Z (pyproject's version)
# once git has that tag, otherwise at main.
student: $(STAMP)
	$(BIN)/python -m course_tools student

# For instructors only (every solution and rubric): not tracked, not in the book.
answer-key: $(STAMP)
	$(BIN)/python -m course_tools answer-key

# Score submitted notebooks: make grade SUBMISSIONS=folder-or-notebook [ARGS="--csv scores.csv"]
grade: $(STAMP) $(BWRAP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=path [ARGS='--csv s.csv']"; exit 2; }
	$(BIN)/python -m course_tools grade "$(SUBMISSIONS)" $(ARGS)

# The grader on every chapter: each student edition scores 0 untouched (and runs to its end),
# and full marks with every solution typed into its answer cell; and the cheats, graded.
grade-check: $(STAMP) $(BWRAP)
	ODE_COURSE_GRADE_NOTEBOOKS=1 $(BIN)/pytest tests/grading/test_grading_notebooks.py \
		tests/grading/test_grading_cheats.py tests/grading/test_grading_attacks.py \
		tests/grading/test_grading_gradescope.py -q \
		-p no:cacheprovider -n 2 --dist loadgroup

# The package as Colab installs it: a wheel, no extras, in a fresh environment outside the
# checkout; the notebooks' imports and chapters 1 and 6 under nbval (tests/wheel_check.py).
wheel-check: $(STAMP)
	$(BIN)/python tests/wheel_check.py

times: $(STAMP)
	$(BIN)/python benchmarks/notebook_times.py --json benchmarks/notebook_times.json
	$(BIN)/python -m course_tools guide

guide: $(STAMP)
	$(BIN)/python -m course_tools guide

clean:
	rm -rf _build
