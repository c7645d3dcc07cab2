# biblio-ia: two commands do the whole set-up (see README).
#   make run   installs what is missing and starts the hub on http://127.0.0.1:8000
#   make test  installs what is missing (Debian's chromium, docker.io and debootstrap too) and runs
#              the whole test suite, the docker layer with a private engine included
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.biblio-installed
NODE_STAMP := node_modules/.biblio-installed

.PHONY: run test install lint format docs bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) $(NODE_STAMP)

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

run: install
	$(BIN)/jupyterhub -f jupyterhub_config.py

# Every layer, the docker one included: Docker's engine and debootstrap are installed when
# missing, the private engine is started for the run (CI fails loudly if it cannot start).
test: install /usr/bin/chromium docker-tools
	scripts/with-docker.sh $(BIN)/pytest

# launch latency of a demonstrator, API and browser, JSON on stdout (docs/performance.md)
bench: install /usr/bin/chromium
	$(BIN)/python benchmarks/launch.py --launches 10

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# docs/configuration.md is generated from the declarations of hub/config/settings.py
docs: install
	$(BIN)/python -m hub.config.settings docs/configuration.md

# --- Docker mode: images and the docker test layer ----------------------------------------
# `make images` starts a private Docker engine (scripts/dockerd.sh) if none answers and builds
# the demonstrator image (local Debian base made by debootstrap when no registry is reachable).
# `make docker-test` runs tests/docker (it starts/stops the engine itself, skips when it cannot).
DOCKER_SOCK ?= unix:///run/biblio-ia-docker/docker.sock

.PHONY: images docker-tools docker-test dockerd-stop

docker-tools:
	@command -v dockerd >/dev/null && command -v debootstrap >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap)

images: install docker-tools
	scripts/dockerd.sh start
	DOCKER_HOST=$(DOCKER_SOCK) images/build.sh singleuser

docker-test: install
	$(BIN)/pytest tests/docker

dockerd-stop:
	scripts/dockerd.sh stop
