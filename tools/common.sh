#!/usr/bin/env bash
# Shared settings of the harness scripts. Sourced, never run.
set -euo pipefail

ADDON=account_payment_collection
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_PYTHON="${ODOO_PYTHON:-python3}"
BUILD_DIR="${REPO_DIR}/.build"
# Odoo and pylint-odoo take the technical name from the folder name: expose the
# repository under its technical name, whatever the clone is called.
ADDON_LINK_DIR="${TMPDIR:-/tmp}/${ADDON}-$(id -u)/addons"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

odoo_check() {
    # Fails with a clear message unless ODOO_PYTHON imports Odoo 18.0.
    local out
    if ! out="$("${ODOO_PYTHON}" - 2>&1 <<'PY'
import odoo.release as r
print("%s.%s" % r.version_info[:2])
PY
)"; then
        cat >&2 <<MSG
ERROR: '${ODOO_PYTHON}' cannot import Odoo.
  ${out##*$'\n'}
This add-on needs Odoo 18.0 Community importable by that Python: install Odoo
from source (git clone of the 18.0 branch, then 'pip install -r requirements.txt'
and 'pip install -e .' in it), or point ODOO_PYTHON to the Python of an existing
Odoo 18.0 install. Installation guide:
  https://www.odoo.com/documentation/18.0/administration/on_premise/source.html
MSG
        exit 1
    fi
    if [ "${out}" != "18.0" ]; then
        die "'${ODOO_PYTHON}' imports Odoo ${out}, not 18.0 (see https://www.odoo.com/documentation/18.0/administration/on_premise/source.html)"
    fi
}

odoo_addons_path() {
    # Odoo's own add-on folders (source or packaged install), then ours.
    mkdir -p "${ADDON_LINK_DIR}"
    ln -sfn "${REPO_DIR}" "${ADDON_LINK_DIR}/${ADDON}"
    "${ODOO_PYTHON}" - "${ADDON_LINK_DIR}" <<'PY'
import os, sys
import odoo
root = os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__)))
paths = [os.path.join(os.path.dirname(os.path.abspath(odoo.__file__)), "addons")]
if os.path.isdir(os.path.join(root, "addons", "account")):
    paths.append(os.path.join(root, "addons"))
paths.append(sys.argv[1])
print(",".join(paths))
PY
}

odoo_bin() {
    # Runs Odoo with our add-ons path and the local PostgreSQL over its socket.
    "${ODOO_PYTHON}" -m odoo --addons-path="$(odoo_addons_path)" "$@"
}
