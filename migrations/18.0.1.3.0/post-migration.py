# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.3.0: payment links and customer wallets. Existing companies get their
wallet account (4191 where the chart has it) and journal, as at installation."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.company"].search([])._collection_ensure_wallet_setup()
