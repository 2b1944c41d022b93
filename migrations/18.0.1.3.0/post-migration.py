# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.3.0: payment links, customer wallets, online payments' fees.
Existing companies get their wallet account (4191 where the chart has it) and
journal, and their payment providers a commission account, as at
installation."""

from odoo import SUPERUSER_ID, api

from odoo.addons.account_payment_collection.hooks import _set_default_fee_accounts


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.company"].search([])._collection_ensure_wallet_setup()
    _set_default_fee_accounts(env)
