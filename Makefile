# Two commands on a fresh Debian 12 machine, as root:
#   make run    install everything, bring up the sandbox PBX with demo traffic, start the controller
#   make test   install everything and run the whole suite (real Asterisk and PostgreSQL included)
# And one for production beside your own PBX, as root:
#   make install-service   the package in /opt/ccgateway, its user, /etc/ccgateway, the unit
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STATE := /var/lib/ccgateway
AGENTS ?= 6
SYSTEM_PACKAGES := python3 python3-venv python3-pip debootstrap sip-tester postgresql \
                   iproute2 procps util-linux ca-certificates espeak-ng sox \
                   chromium fonts-dejavu-core

# install-service: where things go. DESTDIR stages them under another root (the tests do);
# the venv is then only usable there (a venv's scripts name their own path).
DESTDIR ?=
SERVICE_USER ?= ccgateway
SERVICE_HOME := /opt/ccgateway
SERVICE_CONFIG := /etc/ccgateway
SERVICE_STATE := /var/lib/ccgateway
SERVICE_UNIT := /lib/systemd/system/ccgateway.service

.PHONY: run test check install system-deps sandbox-down clean \
        install-service install-service-venv install-service-files

run: install
	@# one phone more than agents: the demo supervisor's, for listen, whisper and barge
	@$(BIN)/ccgateway sandbox up --agents $$(($(AGENTS) + 1)) --outside callee
	@mkdir -p $(STATE) && chmod 700 $(STATE)
	@[ -s $(STATE)/admin-key ] || (umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))' > $(STATE)/admin-key)
	@echo "ccgateway: pages http://127.0.0.1:8080/ui/  (users and passwords in $(STATE)/demo-passwords)"
	@echo "ccgateway: API http://127.0.0.1:8080/docs  admin key in $(STATE)/admin-key"
	@CCGW_API__ADMIN_KEY_FILE=$(STATE)/admin-key $(BIN)/ccgateway demo --agents $(AGENTS) --key-file $(STATE)/admin-key & \
	  trap 'kill %1 2>/dev/null; $(BIN)/ccgateway sandbox down' EXIT; \
	  CCGW_API__ADMIN_KEY_FILE=$(STATE)/admin-key $(BIN)/ccgateway serve --config config/ccgateway.toml

test: install
	$(BIN)/ruff check ccgateway tests
	$(BIN)/ruff format --check ccgateway tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=25

check: install
	$(BIN)/ruff check ccgateway tests
	$(BIN)/ruff format --check ccgateway tests
	$(BIN)/mypy

install: system-deps $(BIN)/.installed

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root)"; exit 1; fi; \
	  echo "installing:$$missing"; apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

sandbox-down:
	-$(BIN)/ccgateway sandbox down

clean: sandbox-down
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The controller as a systemd service (config/systemd/ccgateway.service): the venv and the
# files. The config is installed once and never overwritten; secrets go beside it (0600).
install-service: install-service-venv install-service-files
	@echo "ccgateway: edit $(SERVICE_CONFIG)/ccgateway.toml, then: systemctl enable --now ccgateway"

install-service-venv:
	$(PYTHON) -m venv $(DESTDIR)$(SERVICE_HOME)
	$(DESTDIR)$(SERVICE_HOME)/bin/pip install -q --upgrade pip
	$(DESTDIR)$(SERVICE_HOME)/bin/pip install -q .

install-service-files:
	getent passwd $(SERVICE_USER) >/dev/null || useradd --system --user-group \
	  --home-dir $(SERVICE_STATE) --no-create-home --shell /usr/sbin/nologin $(SERVICE_USER)
	install -d -m 0755 $(DESTDIR)$(SERVICE_HOME)
	install -m 0644 README.md $(DESTDIR)$(SERVICE_HOME)/README.md
	install -d -m 0700 -o $(SERVICE_USER) -g $(SERVICE_USER) $(DESTDIR)$(SERVICE_CONFIG)
	install -d -m 0700 -o $(SERVICE_USER) -g $(SERVICE_USER) $(DESTDIR)$(SERVICE_STATE)
	[ -e $(DESTDIR)$(SERVICE_CONFIG)/ccgateway.toml ] || install -m 0600 -o $(SERVICE_USER) \
	  -g $(SERVICE_USER) config/ccgateway.toml $(DESTDIR)$(SERVICE_CONFIG)/ccgateway.toml
	install -D -m 0644 config/systemd/ccgateway.service $(DESTDIR)$(SERVICE_UNIT)
	@# systemd reads the new unit only when asked; not when staging, nor without systemd
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
