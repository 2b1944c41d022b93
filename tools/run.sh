#!/usr/bin/env bash
# make run: a demo database with the add-on, its demo data and the demo payment
# provider, served on http://127.0.0.1:8069.
source "$(dirname "$0")/common.sh"
odoo_check

DB="${RUN_DB:-apc_demo}"
PORT="${RUN_HTTP_PORT:-8069}"
if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'" | grep -q 1; then
    say "Creating the demo database ${DB} (about a minute)"
    odoo_bin -d "${DB}" -i payment_demo --stop-after-init --log-level=warn
    odoo_bin -d "${DB}" -i "${ADDON}" --stop-after-init --log-level=warn
fi
cat <<MSG

  Odoo with ${ADDON}: http://127.0.0.1:${PORT}/odoo   (database ${DB})
  Accountant (admin):  login admin    password admin
  Portal customer:     login portal   password portal
  Stop with Ctrl+C.

MSG
exec "${ODOO_PYTHON}" -m odoo --addons-path="$(odoo_addons_path)" -d "${DB}" \
    --db-filter="^${DB}\$" --http-interface=127.0.0.1 --http-port="${PORT}"
