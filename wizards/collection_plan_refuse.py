# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class CollectionPlanRefuse(models.TransientModel):
    _name = "collection.plan.refuse"
    _description = "Refuse a Payment Plan"

    plan_ids = fields.Many2many(
        comodel_name="collection.plan",
        default=lambda self: self.env.context.get("active_ids"),
    )
    reason = fields.Text(required=True, help="Sent to the customer.")

    def action_refuse(self):
        self.plan_ids._refuse(self.reason)
        return {"type": "ir.actions.act_window_close"}
