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

    def _get_alerts(self, moves, moves_data):
        """Override of `account`: e-mailing an invoice with a Pay button to a
        customer without an e-mail address is refused (a blocking alert), the
        customer named."""
        alerts = super()._get_alerts(moves, moves_data)
        emailed = moves.filtered(
            lambda move: "email"
            in (moves_data.get(move) or {}).get("sending_methods", ())
        )
        missing = emailed._collection_get_pay_button_without_email()
        if missing:
            alerts["account_payment_collection_missing_email"] = {
                "level": "danger",
                "message": moves._collection_get_missing_email_message(missing),
                "action_text": self.env._("View Customers"),
                "action": missing._get_records_action(name=self.env._("Customers")),
            }
        return alerts
