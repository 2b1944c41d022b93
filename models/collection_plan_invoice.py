# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class CollectionPlanInvoice(models.Model):
    """An invoice in a payment plan. The database guarantees that an invoice is
    in at most one open (proposed or active) plan."""

    _name = "collection.plan.invoice"
    _description = "Invoice in a Payment Plan"
    _order = "plan_id, id"

    plan_id = fields.Many2one(
        comodel_name="collection.plan", required=True, ondelete="cascade", index=True
    )
    move_id = fields.Many2one(
        comodel_name="account.move",
        string="Invoice",
        required=True,
        ondelete="restrict",
        index=True,
    )
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount = fields.Monetary(help="What the invoice owed when the plan was proposed.")
    amount_credited_before = fields.Monetary(
        help="The part of the invoice settled by credit notes before the plan was "
        "proposed."
    )
    amount_residual = fields.Monetary(related="move_id.amount_residual")
    payment_state = fields.Selection(related="move_id.payment_state")
    is_open = fields.Boolean(compute="_compute_is_open", store=True)

    @api.depends("plan_id.state")
    def _compute_is_open(self):
        for link in self:
            link.is_open = link.plan_id.state in ("proposed", "active")

    @api.model_create_multi
    def create(self, vals_list):
        """Invoices join a plan through the plan workflow only."""
        self.env["collection.plan"]._collection_check_workflow()
        return super().create(vals_list)

    def write(self, vals):
        self.env["collection.plan"]._collection_check_workflow()
        return super().write(vals)

    def init(self):
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS collection_plan_invoice_open_move_uniq
            ON collection_plan_invoice (move_id) WHERE is_open
            """
        )
