# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.fields import Command


class CollectionPlanAdjust(models.TransientModel):
    _name = "collection.plan.adjust"
    _description = "Adjust a Proposed Payment Plan"

    plan_id = fields.Many2one(comodel_name="collection.plan", required=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount_total = fields.Monetary(related="plan_id.amount_total", string="To Cover")
    line_ids = fields.One2many(
        comodel_name="collection.plan.adjust.line",
        inverse_name="wizard_id",
        string="Installments",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    amount_scheduled = fields.Monetary(compute="_compute_amount_scheduled")
    amount_difference = fields.Monetary(
        string="Left to Schedule", compute="_compute_amount_scheduled"
    )

    @api.depends("plan_id")
    def _compute_line_ids(self):
        for wizard in self:
            wizard.line_ids = [Command.clear()] + [
                Command.create({"date": inst.date, "amount": inst.amount})
                for inst in wizard.plan_id.installment_ids
            ]

    @api.depends("line_ids.amount", "amount_total")
    def _compute_amount_scheduled(self):
        for wizard in self:
            wizard.amount_scheduled = sum(wizard.line_ids.mapped("amount"))
            wizard.amount_difference = wizard.currency_id.round(
                wizard.amount_total - wizard.amount_scheduled
            )

    def action_confirm(self):
        self.ensure_one()
        self.plan_id._adjust([(line.date, line.amount) for line in self.line_ids])
        return {"type": "ir.actions.act_window_close"}


class CollectionPlanAdjustLine(models.TransientModel):
    _name = "collection.plan.adjust.line"
    _description = "Installment of an Adjusted Payment Plan"
    _order = "date, id"

    wizard_id = fields.Many2one(
        comodel_name="collection.plan.adjust", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
