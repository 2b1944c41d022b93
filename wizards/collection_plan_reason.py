# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError


class CollectionPlanReason(models.TransientModel):
    _name = "collection.plan.reason"
    _description = "Reason for Refusing or Cancelling a Payment Plan"

    plan_ids = fields.Many2many(
        comodel_name="collection.plan",
        default=lambda self: self.env.context.get("active_ids"),
    )
    mode = fields.Selection(
        selection="_selection_mode", required=True, default="refuse"
    )
    reason = fields.Text(required=True, help="Sent to the customer.")

    @api.model_create_multi
    def create(self, vals_list):
        """The reason goes to the customer: refuse what PostgreSQL cannot
        store with a clear message."""
        for vals in vals_list:
            if "\x00" in (vals.get("reason") or ""):
                raise UserError(
                    self.env._("The reason contains a character that is not allowed.")
                )
        return super().create(vals_list)

    @api.model
    def _selection_mode(self):
        return [
            ("refuse", self.env._("Refuse")),
            ("cancel", self.env._("Cancel")),
        ]

    def action_confirm(self):
        self.ensure_one()
        if self.mode == "cancel":
            self.plan_ids._cancel(self.reason)
        else:
            self.plan_ids._refuse(self.reason)
        return {"type": "ir.actions.act_window_close"}
