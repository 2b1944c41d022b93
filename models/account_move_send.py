# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _get_default_sending_method(self, move):
        """Override of `account` to e-mail the invoices queued for automatic
        sending to offline customers, whatever the partner's sending preference."""
        if (move.sending_data or {}).get("collection_auto_send"):
            return "email"
        return super()._get_default_sending_method(move)
