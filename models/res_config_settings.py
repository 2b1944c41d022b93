# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    collection_auto_send_offline = fields.Boolean(
        related="company_id.collection_auto_send_offline", readonly=False
    )
    collection_cheque_payee = fields.Char(
        related="company_id.collection_cheque_payee", readonly=False
    )
    collection_cheque_address = fields.Text(
        related="company_id.collection_cheque_address", readonly=False
    )
    collection_cash_instructions = fields.Text(
        related="company_id.collection_cash_instructions", readonly=False
    )
    collection_money_order_payee = fields.Char(
        related="company_id.collection_money_order_payee", readonly=False
    )
