# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.3.0: invoices get ``collection_paid_online`` (the invoice list's
mark). Its column is created empty, so that upgrading a large database does not
compute it for every invoice: no invoice was integrated by the add-on before."""


def migrate(cr, version):
    cr.execute(
        "ALTER TABLE account_move "
        "ADD COLUMN IF NOT EXISTS collection_paid_online boolean"
    )
