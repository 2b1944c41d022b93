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
    # The fallback of an empty cheque mailing address, shown as its placeholder.
    collection_mailing_address = fields.Text(
        related="company_id.collection_mailing_address"
    )
    collection_cash_instructions = fields.Text(
        related="company_id.collection_cash_instructions", readonly=False
    )
    collection_money_order_payee = fields.Char(
        related="company_id.collection_money_order_payee", readonly=False
    )
    collection_reminders_enabled = fields.Boolean(
        related="company_id.collection_reminders_enabled", readonly=False
    )
    collection_allow_plan_proposal = fields.Boolean(
        related="company_id.collection_allow_plan_proposal", readonly=False
    )
    collection_plan_max_installments = fields.Integer(
        related="company_id.collection_plan_max_installments", readonly=False
    )
    collection_plan_max_days = fields.Integer(
        related="company_id.collection_plan_max_days", readonly=False
    )
    collection_plan_min_amount = fields.Monetary(
        related="company_id.collection_plan_min_amount",
        readonly=False,
        currency_field="currency_id",
    )
    collection_plan_reason_required = fields.Boolean(
        related="company_id.collection_plan_reason_required", readonly=False
    )
    collection_plan_allow_deferred = fields.Boolean(
        related="company_id.collection_plan_allow_deferred", readonly=False
    )
    collection_plan_allow_weekly = fields.Boolean(
        related="company_id.collection_plan_allow_weekly", readonly=False
    )
    collection_plan_allow_monthly = fields.Boolean(
        related="company_id.collection_plan_allow_monthly", readonly=False
    )
    collection_plan_reviewer_id = fields.Many2one(
        related="company_id.collection_plan_reviewer_id", readonly=False
    )
    collection_plan_break_days = fields.Integer(
        related="company_id.collection_plan_break_days", readonly=False
    )
    collection_registration_link_days = fields.Integer(
        related="company_id.collection_registration_link_days", readonly=False
    )
    collection_payment_link_days = fields.Integer(
        related="company_id.collection_payment_link_days", readonly=False
    )
    collection_greylist_threshold = fields.Integer(
        related="company_id.collection_greylist_threshold", readonly=False
    )
    collection_retry_count = fields.Integer(
        related="company_id.collection_retry_count", readonly=False
    )
    collection_retry_days = fields.Integer(
        related="company_id.collection_retry_days", readonly=False
    )
    collection_online_integration = fields.Selection(
        related="company_id.collection_online_integration", readonly=False
    )
