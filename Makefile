# Two commands: `make run` (demo on 127.0.0.1:8000) and `make test` (the whole suite).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast install install-runtime browser mailservers bench lint messages clean

# Two installs: what running needs (`make run`), and the test tools on top (`make test`,
# `make install`). Each is redone when pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml
	@PYTHON=$$(bin/find-python) || exit 1; \
	  if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$PYTHON"; "$$PYTHON" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed: $(VENV)/.runtime
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

install-runtime: $(VENV)/.runtime
install: $(VENV)/.installed

# The demo is served, seeded and printed at one address: HELPDESK_PUBLIC_URL when set, else
# http://HOST:PORT (`make run PORT=8100` links, the chat snippet and the widget's origin say 8100).
run: install-runtime
	@export HELPDESK_PUBLIC_URL="$${HELPDESK_PUBLIC_URL:-http://$(HOST):$(PORT)}"; \
	  $(PY) manage.py migrate --noinput -v0 && \
	  $(PY) manage.py seed_demo --if-empty && \
	  echo "  Press Ctrl-C once to stop the server and the worker." && echo "" && \
	  exec $(PY) manage.py serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's chromium; install it when we can (root + apt), else they skip
# with a clear reason.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: chromium not installed; browser tests will be skipped"; fi; \
	fi

# The mailbox tests start a real Dovecot (Debian's dovecot-imapd) with their own config; install
# it the same way (it is not started as a system service for them).
mailservers:
	@if [ ! -x /usr/lib/dovecot/imap ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian dovecot-imapd for the mailbox tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null) \
	      || echo "warning: could not install dovecot-imapd; mailbox tests will be skipped (failed under CI)"; \
	  else echo "note: dovecot-imapd not installed; mailbox tests will be skipped"; fi; \
	fi

test: install browser mailservers
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not browser and not scaled" -x -q $(PYTEST_ARGS)

bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# Translations (README "Languages"): collect the marked strings into locale/<lang>/ (and the apps'
# own locale/ folders), then compile. New strings arrive empty: translate them, run it again,
# commit the .po and .mo files. Needs Debian's gettext, installed here like chromium above.
LOCALES := -l de -l fr -l es
MESSAGES_IGNORE := -i "tests/*" -i "bench/*" -i "tools/*" -i "var/*" --no-location
messages: install-runtime
	@command -v msgfmt >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; } || \
	  { echo "gettext is needed (apt-get install gettext)"; exit 1; }
	$(PY) manage.py makemessages $(LOCALES) $(MESSAGES_IGNORE)
	$(PY) manage.py makemessages -d djangojs $(LOCALES) $(MESSAGES_IGNORE) -i "*/vendor/*" -i "livechat/static/*"
	$(PY) manage.py compilemessages -i ".venv" -i "var"

clean:
	rm -rf $(VENV) var .pytest_cache
