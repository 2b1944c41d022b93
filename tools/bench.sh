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

say "make bench took $((SECONDS / 60)) min $((SECONDS % 60)) s; table in ${BENCH_OUT:-bench/results/latest.md}"
