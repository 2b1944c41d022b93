#!/usr/bin/env bash
# make setup: system packages, PostgreSQL with a role for this user, Python
# packages for the Python that imports Odoo. Idempotent.
source "$(dirname "$0")/common.sh"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /usr/lib/postgresql ] || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
if [ ${#missing[@]} -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

say "Starting PostgreSQL"
if ! pg_lsclusters -h | grep -q .; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
    as_root pg_createcluster "${version}" main >/dev/null
fi
pg_lsclusters -h | while read -r version cluster _port status _rest; do
    [ "${status}" = online ] || as_root pg_ctlcluster "${version}" "${cluster}" start
done
user="$(id -un)"
if ! as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '${user}'" | grep -q 1; then
    as_postgres createuser --superuser "${user}"
fi
psql -d postgres -tAc "SELECT 1" >/dev/null || die "PostgreSQL does not accept connections for ${user}"

say "Checking that ${ODOO_PYTHON} imports Odoo 18.0"
odoo_check

say "Python packages for $("${ODOO_PYTHON}" -c 'import sys; print(sys.executable)')"
if ! "${ODOO_PYTHON}" "${REPO_DIR}/tools/check_requirements.py" "${REPO_DIR}/requirements-dev.txt"; then
    "${ODOO_PYTHON}" -m pip install --quiet -r "${REPO_DIR}/requirements-dev.txt"
fi
odoo_addons_path >/dev/null
say "Setup done: Odoo $("${ODOO_PYTHON}" -c 'import odoo.release as r; print(r.version)') at $("${ODOO_PYTHON}" -c 'import odoo, os; print(os.path.dirname(odoo.__file__))')"
