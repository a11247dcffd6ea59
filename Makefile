# The two commands a newcomer needs:
#   make site   install everything, bring up the whole runbook, prove the webapp's credentials work
#   make test   lint + sanity + unit + integration + molecule (what CI runs)
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)
PYTEST_FLAGS ?= -p no:cacheprovider -ra --durations=15

.PHONY: bootstrap site teardown test unit integration molecule sanity lint clean

bootstrap:
	@bash scripts/bootstrap.sh

site: bootstrap
	$(BIN)/ansible-playbook site.yml $(ARGS)

teardown: bootstrap
	$(BIN)/ansible-playbook playbooks/teardown.yml

unit: bootstrap
	$(BIN)/pytest $(PYTEST_FLAGS) tests/unit

integration: bootstrap
	$(BIN)/pytest $(PYTEST_FLAGS) tests/integration

sanity: bootstrap
	bash scripts/sanity.sh

lint: bootstrap
	bash scripts/lint.sh

molecule: bootstrap
	cd $(CURDIR) && $(BIN)/molecule test --all

# Lint and sanity first; then one pytest run over unit and integration tests (the
# integration suite also runs the molecule scenarios), so the last line
# is pytest's summary of everything.
test: bootstrap
	bash scripts/lint.sh
	bash scripts/sanity.sh
	$(BIN)/pytest $(PYTEST_FLAGS) tests/unit tests/integration

clean:
	rm -rf .collections tests/output
