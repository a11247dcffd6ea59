# The two commands a newcomer needs:
#   make site   install everything, bring up the whole runbook, prove the webapp's credentials work
#   make test   unit + integration + molecule + sanity (what CI runs)
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)
PYTEST_FLAGS ?= -p no:cacheprovider -ra --durations=15

.PHONY: bootstrap site teardown test unit integration molecule sanity clean

bootstrap:
	@bash scripts/bootstrap.sh

site: bootstrap
	$(BIN)/ansible-playbook site.yml

teardown: bootstrap
	$(BIN)/ansible-playbook playbooks/teardown.yml

unit: bootstrap
	$(BIN)/pytest $(PYTEST_FLAGS) tests/unit

integration: bootstrap
	$(BIN)/pytest $(PYTEST_FLAGS) tests/integration

sanity: bootstrap
	bash scripts/sanity.sh

molecule: bootstrap
	cd $(CURDIR) && $(BIN)/molecule test --all

# Sanity first; then one pytest run over unit and integration tests (the
# integration suite also runs the molecule scenarios), so the last line
# is pytest's summary of everything.
test: bootstrap
	bash scripts/sanity.sh
	$(BIN)/pytest $(PYTEST_FLAGS) tests/unit tests/integration

clean:
	rm -rf .collections tests/output
