#!/usr/bin/env bash
# make bench: the add-on side by side with core Odoo (posting and e-mailing
# invoices of offline customers, searching customers by how they pay), printed
# as a Markdown table for the README and written to bench/results/latest.md.
#
# Database apc_bench: created once (payment_demo, then the add-on, no demo data),
# then reused and updated to the current code. BENCH_FRESH=1 recreates it.
# The benchmark runs in one transaction that is rolled back: nothing is kept.
# Sizes: BENCH_INVOICES, BENCH_SEND_N, BENCH_SMALL, BENCH_PARTNERS,
# BENCH_SEARCH_RUNS (see bench/bench_collection.py).
#
# Then bench/bench_plans.py (payment plans, reminders) appends its table to the
# same file. Its reference database apc_bench_core has the add-on's dependencies
# (and payment_demo) without the add-on: created once, recreated when they
# change or with BENCH_FRESH=1. Its portal page measure starts one Odoo server
# per database on 127.0.0.1:8869 and 8870 (BENCH_PORTAL_PORTS); BENCH_PLANS=0
# skips it all. Sizes: see bench/bench_plans.py.
source "$(dirname "$0")/common.sh"
odoo_check

DB=apc_bench
PORT="${BENCH_HTTP_PORT:-8369}"
RESULTS="${REPO_DIR}/bench/results"
LOG="${RESULTS}/bench.log"
mkdir -p "${RESULTS}"
: > "${LOG}"
SECONDS=0

db_exists() {
    psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'" | grep -q 1
}
addon_installed() {
    psql -d "${DB}" -tAc "SELECT state FROM ir_module_module WHERE name = '${ADDON}'" \
        2>/dev/null | grep -qx installed
}

if [ "${BENCH_FRESH:-0}" = 1 ] || { db_exists && ! addon_installed; }; then
    say "Dropping ${DB}"
    dropdb --if-exists "${DB}"
fi
if ! db_exists; then
    say "Creating ${DB}: payment_demo, then ${ADDON}, without demo data (log: ${LOG})"
    if ! odoo_bin -d "${DB}" -i payment_demo --without-demo=all --stop-after-init \
            --http-port="${PORT}" --log-level=warn >>"${LOG}" 2>&1 \
        || ! odoo_bin -d "${DB}" -i "${ADDON}" --without-demo=all --stop-after-init \
            --http-port="${PORT}" --log-level=warn >>"${LOG}" 2>&1; then
        tail -40 "${LOG}"
        dropdb --if-exists "${DB}"
        die "creating ${DB} failed"
    fi
else
    say "Updating ${ADDON} in ${DB} to the current code (log: ${LOG})"
    odoo_bin -d "${DB}" -u "${ADDON}" --stop-after-init --http-port="${PORT}" \
        --log-level=warn >>"${LOG}" 2>&1 \
        || { tail -40 "${LOG}"; die "updating ${ADDON} in ${DB} failed (BENCH_FRESH=1 recreates it)"; }
fi

say "Benchmarking (a few minutes; the transaction is rolled back)"
# wkhtmltopdf's warnings (one per PDF) go to the log only.
"${ODOO_PYTHON}" "${REPO_DIR}/bench/bench_collection.py" \
    --addons-path="$(odoo_addons_path)" -d "${DB}" --http-port="${PORT}" \
    --log-level=warn --log-handler=odoo.addons.base.models.ir_actions_report:ERROR \
    2> >(tee -a "${LOG}" >&2) \
    || die "the benchmark failed (log: ${LOG})"

if [ "${BENCH_PLANS:-1}" != 0 ]; then
    CORE_DB="${BENCH_CORE_DB:-apc_bench_core}"
    # The add-on's dependencies, from its manifest, and payment_demo as apc_bench.
    CORE_MODULES="payment_demo,$("${ODOO_PYTHON}" - "${REPO_DIR}/__manifest__.py" <<'PY'
import ast, sys
print(",".join(ast.literal_eval(open(sys.argv[1]).read())["depends"]))
PY
)"
    installed_modules() {
        psql -d "$1" -tAc "SELECT name FROM ir_module_module WHERE state = 'installed'
                           AND name != '${ADDON}' ORDER BY name" 2>/dev/null
    }
    core_db_exists() {
        psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${CORE_DB}'" | grep -q 1
    }
    if core_db_exists && { [ "${BENCH_FRESH:-0}" = 1 ] \
            || [ "$(installed_modules "${DB}")" != "$(installed_modules "${CORE_DB}")" ]; }; then
        say "Dropping ${CORE_DB} (fresh start, or its modules differ from ${DB}'s)"
        dropdb --if-exists "${CORE_DB}"
    fi
    if ! core_db_exists; then
        say "Creating ${CORE_DB}: ${CORE_MODULES}, without ${ADDON} nor demo data"
        if ! odoo_bin -d "${CORE_DB}" -i "${CORE_MODULES}" --without-demo=all \
                --stop-after-init --http-port="${PORT}" --log-level=warn >>"${LOG}" 2>&1; then
            tail -40 "${LOG}"
            dropdb --if-exists "${CORE_DB}"
            die "creating ${CORE_DB} failed"
        fi
        [ "$(installed_modules "${DB}")" = "$(installed_modules "${CORE_DB}")" ] \
            || say "Warning: ${CORE_DB} and ${DB} differ by more than ${ADDON}"
    fi

    say "Benchmarking payment plans and reminders (about 5 min; rolled back)"
    BENCH_CORE_DB="${CORE_DB}" "${ODOO_PYTHON}" "${REPO_DIR}/bench/bench_plans.py" \
        --addons-path="$(odoo_addons_path)" -d "${DB}" --http-port="${PORT}" \
        --log-level=warn --log-handler=odoo.addons.base.models.ir_actions_report:ERROR \
        2> >(tee -a "${LOG}" >&2) \
        || die "the payment plans benchmark failed (log: ${LOG})"
fi

# bench/bench_debits.py: the due-date job vs Register Payment with a token, and
# the GoCardless webhook vs Stripe's (servers on 127.0.0.1:8969 and 8970,
# BENCH_WEBHOOK_PORTS); BENCH_DEBITS=0 skips it, BENCH_DEBITS_DB (apc_bench) and
# BENCH_DEBITS_CORE_DB (BENCH_CORE_DB) choose its databases. Sizes: see the script.
if [ "${BENCH_DEBITS:-1}" != 0 ]; then
    say "Benchmarking automatic debits and webhooks (about 15 min; the job's data rolled back)"
    "${ODOO_PYTHON}" "${REPO_DIR}/bench/bench_debits.py" \
        --addons-path="$(odoo_addons_path)" -d "${BENCH_DEBITS_DB:-${DB}}" \
        --http-port="${PORT}" --log-level=warn 2> >(tee -a "${LOG}" >&2) \
        || die "the automatic debits benchmark failed (log: ${LOG})"
fi

# bench/bench_links.py: opening and paying the payment links (deposit, wallet
# top-up, settlement of 1 and 20 invoices) vs Odoo's payment link of one
# invoice, through Odoo's WSGI application (a report server on 127.0.0.1:8971,
# BENCH_LINK_PORT, for the PDFs). BENCH_LINKS=0 skips it; BENCH_LINK_RUNS (15).
# Its fixtures are committed (customers named "APC bench links").
if [ "${BENCH_LINKS:-1}" != 0 ]; then
    say "Benchmarking the payment links (a few minutes)"
    "${ODOO_PYTHON}" "${REPO_DIR}/bench/bench_links.py" \
        --addons-path="$(odoo_addons_path)" -d "${BENCH_LINKS_DB:-${DB}}" \
        --http-port="${PORT}" --log-level=warn \
        --log-handler=odoo.addons.base.models.ir_actions_report:ERROR \
        2> >(tee -a "${LOG}" >&2) \
        || die "the payment links benchmark failed (log: ${LOG})"
fi

# bench/bench_wallet.py: the wallet balance of a customer with 10,000 wallet
# entries vs core's credit of the same customer, with the EXPLAIN plan of its
# indexed query (under a minute; rolled back). BENCH_WALLET=0 skips it;
# BENCH_WALLET_DB (apc_bench) chooses its database. Sizes: see the script.
if [ "${BENCH_WALLET:-1}" != 0 ]; then
    say "Benchmarking the customer wallets (under a minute; rolled back)"
    "${ODOO_PYTHON}" "${REPO_DIR}/bench/bench_wallet.py" \
        --addons-path="$(odoo_addons_path)" -d "${BENCH_WALLET_DB:-${DB}}" \
        --http-port="${PORT}" --log-level=warn 2> >(tee -a "${LOG}" >&2) \
        || die "the wallet benchmark failed (log: ${LOG})"
fi

# bench/bench_integration.py: integrating online payments with their fees vs
# Odoo's own post-processing (BENCH_INTEGRATION_SIZES, 250,1000; rolled back);
# BENCH_INTEGRATION=0 skips it.
if [ "${BENCH_INTEGRATION:-1}" != 0 ]; then
    say "Benchmarking the integration of online payments (a few minutes; rolled back)"
    "${ODOO_PYTHON}" "${REPO_DIR}/bench/bench_integration.py" \
        --addons-path="$(odoo_addons_path)" -d "${DB}" \
        --http-port="${PORT}" --log-level=warn 2> >(tee -a "${LOG}" >&2) \
        || die "the online payments integration benchmark failed (log: ${LOG})"
fi

# bench/bench_pay_button.py: invoice PDF and e-mail with the Pay online button
# vs without (BENCH_PAY_N invoices, 20; rolled back). BENCH_PAY=0 skips it.
if [ "${BENCH_PAY:-1}" != 0 ]; then
    say "Benchmarking the Pay online button (a few minutes; rolled back)"
    "${ODOO_PYTHON}" "${REPO_DIR}/bench/bench_pay_button.py" \
        --addons-path="$(odoo_addons_path)" -d "${DB}" \
        --http-port="${PORT}" --log-level=warn \
        --log-handler=odoo.addons.base.models.ir_actions_report:ERROR \
        2> >(tee -a "${LOG}" >&2) \
        || die "the Pay online button benchmark failed (log: ${LOG})"
fi

say "make bench took $((SECONDS / 60)) min $((SECONDS % 60)) s; table in ${BENCH_OUT:-bench/results/latest.md}"
