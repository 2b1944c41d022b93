# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        """Override of `account` to reopen the payment plans whose invoices are
        due again once a payment is unreconciled."""
        plans = (
            self.debit_move_id.move_id | self.credit_move_id.move_id
        ).collection_plan_id.sudo()
        res = super().unlink()
        plans._collection_check_done()
        return res
