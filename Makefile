# Harness of the account_payment_collection add-on. See README.md.
ODOO_PYTHON ?= python3
export ODOO_PYTHON
LINT_DIR := $(or $(TMPDIR),/tmp)/account_payment_collection-$(shell id -u)/lint

.PHONY: setup run test lint bench clean

setup:  ## system packages, PostgreSQL, Python packages; checks Odoo 18.0
	bash tools/setup.sh

run:  ## French demo database (RUN_DB) with the add-on, on http://127.0.0.1:8069 (RUN_HTTP_PORT)
	bash tools/run.sh

test:  ## fresh database (TEST_DB, dropped after), all the add-on's tests; TAGS=... for a subset
	TAGS="$(TAGS)" bash tools/test.sh

lint:  ## ruff (check and format) and pylint-odoo's mandatory checks
	$(ODOO_PYTHON) -m ruff check --config .ruff.toml --no-fix .
	$(ODOO_PYTHON) -m ruff format --config .ruff.toml --check .
	mkdir -p $(LINT_DIR) && ln -sfn $(CURDIR) $(LINT_DIR)/account_payment_collection
	cd $(LINT_DIR) && $(ODOO_PYTHON) -m pylint --rcfile=$(CURDIR)/.pylintrc-mandatory \
		--output-format=text account_payment_collection

bench:  ## benchmarks side by side with core Odoo (figures for the README)
	bash tools/bench.sh

clean:
	rm -rf .build
