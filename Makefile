# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3

.PHONY: demo test install install-test browser lint

install:
	$(PYTHON) -m pip install -e .

demo: install
	kiosque demo

install-test:
	$(PYTHON) -m pip install -e '.[test]'

# Debian's chromium for the browser tests (they skip when it is missing).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install -y chromium"; fi; \
	fi

test: browser install-test
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
