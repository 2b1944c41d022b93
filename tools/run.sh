#!/usr/bin/env bash
# make run: a demo database with the add-on, its demo data and the demo payment
# provider, served on http://127.0.0.1:8069.
#
# The demo is a French company: French loaded and the admin in French, the
# company in France with the euro, Odoo's French chart of accounts
# (l10n_fr_account, installed here: the add-on does not depend on it).
#
# The database (RUN_DB, default apc_demo) is created once, then reused: each run
# installs the add-on if the database lacks it and updates it to the current code
# when the code changed since the last run (-u, about half a minute; nothing to do,
# no wait). RUN_HTTP_PORT changes the port.
source "$(dirname "$0")/common.sh"
odoo_check

DB="${RUN_DB:-apc_demo}"
PORT="${RUN_HTTP_PORT:-8069}"
# What the last run installed or updated: "<database oid> <code fingerprint>".
STAMP="${BUILD_DIR}/run-${DB}.stamp"
mkdir -p "${BUILD_DIR}"

db_oid() {
    # The database's oid, which changes when it is dropped and created again.
    psql -d postgres -tAc "SELECT oid FROM pg_database WHERE datname = '${DB}'"
}
module_state() {
    # installed, uninstalled, to upgrade...; empty when not an Odoo database yet.
    psql -d "${DB}" -tAc "SELECT state FROM ir_module_module WHERE name = '$1'" \
        2>/dev/null || true
}
code_fingerprint() {
    # What Odoo loads from the add-on: not the harness, tests, docs or caches.
    local source sources=()
    for source in __manifest__.py __init__.py hooks.py const.py utils.py controllers \
        data demo i18n migrations models report security static views wizards; do
        [ -e "${REPO_DIR}/${source}" ] && sources+=("${source}")
    done
    (cd "${REPO_DIR}" && find "${sources[@]}" -name __pycache__ -prune -o -type f \
        -print0 | LC_ALL=C sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
}
odoo_init() {
    # odoo_init -i|-u MODULE[,MODULE] MESSAGE [OPTION...]: install or update, then stop.
    local flag="$1" modules="$2" what="$3"
    shift 3
    odoo_bin -d "${DB}" "${flag}" "${modules}" --stop-after-init --http-port="${PORT}" \
        --log-level=warn "$@" || die "${what} failed: see the messages above"
}
french_company() {
    # Before the chart of accounts is chosen: the main company in France, in
    # euros, the admin and the company in French.
    "${ODOO_PYTHON}" -m odoo shell --addons-path="$(odoo_addons_path)" -d "${DB}" \
        --no-http --log-level=warn <<'PY' || die "setting up the French company in ${DB} failed"
env.ref("base.EUR").active = True
company = env.ref("base.main_company")
company.write({
    "name": "Lefèvre & Fils SAS",
    "street": "8 rue de la République",
    "street2": False,
    "zip": "69002",
    "city": "Lyon",
    "state_id": False,
    "country_id": env.ref("base.fr").id,
    "currency_id": env.ref("base.EUR").id,
    "email": "compta@lefevre-fils.example.com",
    "phone": "+33 4 72 00 00 00",
    "website": "https://www.lefevre-fils.example.com",
    "vat": "FR95534640974",
    "company_registry": "53464097400018",
})
company.partner_id.lang = "fr_FR"
env.ref("base.user_admin").write({"lang": "fr_FR", "tz": "Europe/Paris"})
env["ir.default"].set("res.partner", "lang", "fr_FR")
env.cr.commit()
PY
}

psql -d postgres -tAc "SELECT 1" >/dev/null \
    || die "PostgreSQL does not answer on its local socket: run make setup"
# Taken before any update, so that a change made meanwhile is loaded next time.
fingerprint="$(code_fingerprint)"
if [ -z "$(db_oid)" ]; then
    say "Creating the French demo database ${DB} (about three minutes)"
    odoo_init -i base "creating ${DB} with French loaded" --load-language=fr_FR
    french_company
    odoo_init -i l10n_fr_account,payment_demo "installing l10n_fr_account and payment_demo in ${DB}"
    [ "$(psql -d "${DB}" -tAc "SELECT chart_template FROM res_company ORDER BY id LIMIT 1")" = fr ] \
        || die "the French chart of accounts was not loaded in ${DB}"
    odoo_init -i "${ADDON}" "installing ${ADDON} in ${DB}"
else
    if [ "$(module_state l10n_fr_account)" != installed ]; then
        say "${DB} was created before the demo became French: dropdb ${DB} to get the French one"
    fi
    if [ "$(module_state payment_demo)" != installed ]; then
        say "${DB} exists without payment_demo: installing it"
        odoo_init -i payment_demo "installing payment_demo in ${DB}"
    fi
    state="$(module_state "${ADDON}")"
    if [ "${state}" = installed ] || [ "${state}" = "to upgrade" ]; then
        if [ "${state}" = installed ] \
            && [ "$(cat "${STAMP}" 2>/dev/null)" = "$(db_oid) ${fingerprint}" ]; then
            say "${ADDON} in ${DB} is up to date with the code"
        else
            say "Updating ${ADDON} in ${DB} to the current code (-u, about half a minute)"
            odoo_init -u "${ADDON}" "updating ${ADDON} in ${DB}"
        fi
    else
        say "${DB} exists without ${ADDON} (state: ${state:-none}): installing it"
        odoo_init -i "${ADDON}" "installing ${ADDON} in ${DB}"
    fi
fi
[ "$(module_state "${ADDON}")" = installed ] \
    || die "${ADDON} is not installed in ${DB} (state: $(module_state "${ADDON}")); drop the database (dropdb ${DB}) and run make run again"
echo "$(db_oid) ${fingerprint}" > "${STAMP}"
cat <<MSG

  Odoo with ${ADDON}: http://127.0.0.1:${PORT}/odoo   (database ${DB})
  Accountant (admin):  login admin    password admin
  Portal customer:     login portal   password portal
  Stop with Ctrl+C.

MSG
exec "${ODOO_PYTHON}" -m odoo --addons-path="$(odoo_addons_path)" -d "${DB}" \
    --db-filter="^${DB}\$" --http-interface=127.0.0.1 --http-port="${PORT}"
