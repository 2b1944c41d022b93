# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def reconcile(self):
        """Override of `account` to cancel the automatic debit scheduled for the
        invoices now settled (a cheque registered, a credit note...), and to
        close the payment plans whose invoices are now settled."""
        res = super().reconcile()
        moves = self.move_id
        settled = moves.filtered(
            lambda move: move.collection_state == "scheduled"
            and not move._collection_is_open()
        )
        if settled:
            settled.collection_state = False
            settled._message_log_batch(
                bodies=dict.fromkeys(
                    settled.ids,
                    self.env._("Scheduled automatic debit cancelled: nothing is due."),
                )
            )
        moves.collection_plan_id.sudo()._collection_check_done()
        return res
