#!/usr/bin/env bash
# make test: a fresh database with the add-on and payment_demo, every test of the
# add-on (tours included; TAGS=... for a subset), then the line "N passed, N failed".
# TEST_DB (default apc_test) and TEST_HTTP_PORT (default 8169) choose the database
# and port; the database is dropped at the end (TEST_KEEP_DB=1 keeps it), the log
# stays in .build/test-<TEST_DB>.log.
source "$(dirname "$0")/common.sh"
odoo_check

DB="${TEST_DB:-apc_test}"
LOG="${BUILD_DIR}/test-${DB}.log"
PORT="${TEST_HTTP_PORT:-8169}"
# make test TAGS=... runs a subset, in Odoo's --test-tags syntax, e.g.
# TAGS=/account_payment_collection:TestPlanWorkflow or TAGS=apc_concurrency.
TEST_TAGS="${TAGS:-/${ADDON},apc_concurrency}"
mkdir -p "${BUILD_DIR}"
: > "${LOG}"

say "Fresh database ${DB}: installing payment_demo"
dropdb --if-exists "${DB}"
odoo_bin -d "${DB}" -i payment_demo --stop-after-init --http-port="${PORT}" \
    --log-level=warn >>"${LOG}" 2>&1 || { tail -50 "${LOG}"; die "installing payment_demo failed"; }

say "Installing ${ADDON} and running its tests (full log: ${LOG})"
set +e
odoo_bin -d "${DB}" -i "${ADDON}" --test-enable --test-tags "${TEST_TAGS}" \
    --stop-after-init --http-port="${PORT}" --log-level=info 2>&1 \
    | tee -a "${LOG}" \
    | grep --line-buffered -E "(ERROR|CRITICAL|FAIL:|Ran [0-9]+ test|when loading database| odoo\.tests\.stats)"
set -e

# The log has it all: drop the database now, so that the summary stays last.
if [ "${TEST_KEEP_DB:-0}" = 1 ]; then
    say "Database ${DB} kept (TEST_KEEP_DB=1)"
else
    dropdb --if-exists "${DB}" || say "Could not drop ${DB}"
fi

set +e
"${ODOO_PYTHON}" - "${LOG}" <<'PY'
import re, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
m = re.findall(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database", log)
if not m:
    print("0 passed, 1 failed")
    print("no test report found: the add-on did not install or no test ran", file=sys.stderr)
    sys.exit(1)
failed, errors, run = map(int, m[-1])
# Errors outside of tests (install, tours' console errors) are failures too.
stray = len(re.findall(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", log, re.M))
bad = failed + errors
# Odoo counts failed subtests too: never print a negative number of passes.
print(f"{max(run - bad, 0)} passed, {bad} failed")
if run == 0:
    print("no test ran", file=sys.stderr)
    sys.exit(1)
if bad or stray:
    if stray and not bad:
        print(f"{stray} error(s) logged outside of the tests: see the log", file=sys.stderr)
    sys.exit(1)
PY
status=$?
set -e
exit "${status}"
