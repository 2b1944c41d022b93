# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class CollectionPlanInstallment(models.Model):
    _name = "collection.plan.installment"
    _description = "Payment Plan Installment"
    _order = "plan_id, sequence, id"

    plan_id = fields.Many2one(
        comodel_name="collection.plan", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=1)
    date = fields.Date(required=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount = fields.Monetary(required=True)
    amount_paid = fields.Monetary(compute="_compute_amount_paid", store=True)
    amount_residual = fields.Monetary(compute="_compute_amount_paid", store=True)
    # Not stored: "late" depends on today's date.
    state = fields.Selection(selection="_selection_state", compute="_compute_state")

    @api.depends("amount", "plan_id.amount_paid", "plan_id.installment_ids.amount")
    def _compute_amount_paid(self):
        """Payments received on the plan's invoices go to the installments oldest
        first."""
        for plan in self.plan_id:
            available = plan.amount_paid
            for installment in plan.installment_ids.sorted(
                lambda i: (i.date, i.sequence, i.id)
            ):
                paid = max(0.0, min(installment.amount, available))
                installment.amount_paid = installment.currency_id.round(paid)
                installment.amount_residual = installment.currency_id.round(
                    installment.amount - paid
                )
                available -= paid

    @api.depends("amount_residual", "date", "plan_id.state")
    @api.depends_context("tz")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for installment in self:
            if installment.currency_id.is_zero(installment.amount_residual):
                installment.state = "paid"
            elif installment.plan_id.state != "active":
                installment.state = "planned"
            elif installment.date < today:
                installment.state = "late"
            else:
                installment.state = "due"

    @api.model
    def _selection_state(self):
        return [
            ("planned", self.env._("Planned")),
            ("due", self.env._("To pay")),
            ("late", self.env._("Late")),
            ("paid", self.env._("Paid")),
        ]
