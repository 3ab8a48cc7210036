# Two commands on a fresh Linux machine with Python 3.11:  make run   |   make test
.PHONY: run test bench lint chromium

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed

# Create the virtual environment once (python3.11, else python3).
$(PY):
	(command -v python3.11 >/dev/null 2>&1 && python3.11 -m venv $(VENV)) || python3 -m venv $(VENV)

# Re-install only when requirements.txt is newer than the stamp (the venv is an order-only prerequisite).
PIP := $(PY) -m pip install --disable-pip-version-check
$(STAMP): requirements.txt | $(PY)
	$(PIP) -r requirements.txt
	@touch $(STAMP)

# The optional Ray backend (requirements-ray.txt): the tests install it so the Ray tests run; `make run` does not.
RAY_STAMP := $(VENV)/.requirements-ray-installed
$(RAY_STAMP): requirements-ray.txt requirements.txt | $(STAMP)
	$(PIP) -r requirements-ray.txt
	@touch $(RAY_STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py

# Browser tests need Debian's chromium; install it when missing and we are root, otherwise they skip.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests (apt-get)"; \
	    ( apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium ) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else \
	    echo "warning: /usr/bin/chromium is missing (need root + apt-get to install it); browser tests will be skipped"; \
	  fi; \
	fi

test: $(STAMP) $(RAY_STAMP) chromium
	$(PY) -m pytest --durations=15  # the slowest tests, for keeping the suite well under 15 minutes

bench: $(STAMP)
	$(PY) -m ganlab bench --json --out benchmarks/results.json

lint: $(STAMP)
	$(PY) -m ruff check .
