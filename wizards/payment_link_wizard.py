# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import email_normalize, format_amount

from ..models.collection_link import new_link_key

_logger = logging.getLogger(__name__)

# The documents whose payment links are this add-on's (signed, stored, sent).
COLLECTION_LINK_MODELS = ("sale.order", "res.partner")


class PaymentLinkWizard(models.TransientModel):
    """Odoo's "Generate a Payment Link" wizard, able to send the link by e-mail
    or SMS, for a deposit on an order, a wallet top-up or the settlement of a
    customer's chosen invoices."""

    _inherit = "payment.link.wizard"

    collection_link_purpose = fields.Selection(
        selection=[
            ("deposit", "Order Deposit"),
            ("wallet", "Wallet Top-up"),
            ("settlement", "Settlement of Invoices"),
        ],
        string="Purpose",
        compute="_compute_collection_link_purpose",
        store=True,
        readonly=False,
    )
    collection_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Invoices to Settle",
        domain="[('commercial_partner_id', '=', partner_id), "
        "('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial')), "
        "('currency_id', '=', currency_id)]",
    )
    collection_deposit_percent = fields.Float(
        string="Deposit (%)",
        help="Fills the amount with this share of the order's total.",
    )
    collection_order_total = fields.Monetary(
        string="Order Total", compute="_compute_collection_order_total"
    )
    collection_channel = fields.Selection(
        selection=[("email", "E-mail"), ("sms", "SMS")],
        string="Send By",
        default="email",
    )
    collection_email = fields.Char(
        string="E-mail",
        compute="_compute_collection_recipient",
        store=True,
        readonly=False,
    )
    collection_mobile = fields.Char(
        string="Mobile",
        compute="_compute_collection_recipient",
        store=True,
        readonly=False,
    )
    collection_expiry_date = fields.Date(
        string="Valid Until", compute="_compute_collection_expiry_date"
    )
    collection_key = fields.Char(default=lambda self: new_link_key())
    collection_is_link = fields.Boolean(compute="_compute_collection_is_link")

    # ------------------------------------------------------------------
    # Defaults and computes
    # ------------------------------------------------------------------

    @api.model
    def default_get(self, fields_list):
        """Override of `payment`: a deposit starts with the share of the
        order's total its amount is."""
        res = super().default_get(fields_list)
        if res.get("res_model") == "sale.order" and res.get("res_id"):
            total = self.env["sale.order"].browse(res["res_id"]).amount_total
            if total and res.get("amount"):
                res["collection_deposit_percent"] = round(
                    res["amount"] / total * 100, 2
                )
        return res

    def _compute_company_id(self):  # pylint: disable=missing-return
        super()._compute_company_id()
        for wizard in self.filtered(lambda wizard: wizard.res_model == "res.partner"):
            wizard.company_id = self.env.company

    @api.depends("res_model")
    def _compute_collection_link_purpose(self):
        for wizard in self:
            if wizard.res_model == "sale.order":
                wizard.collection_link_purpose = "deposit"
            elif wizard.res_model == "res.partner":
                wizard.collection_link_purpose = (
                    wizard.collection_link_purpose
                    or self.env.context.get("collection_link_purpose")
                    or "wallet"
                )
            else:
                wizard.collection_link_purpose = False

    @api.depends("res_model")
    def _compute_collection_is_link(self):
        for wizard in self:
            wizard.collection_is_link = wizard.res_model in COLLECTION_LINK_MODELS

    @api.depends("partner_id")
    def _compute_collection_recipient(self):
        for wizard in self:
            partner = wizard.partner_id
            commercial = partner.commercial_partner_id
            wizard.collection_email = partner.email or commercial.email
            wizard.collection_mobile = (
                partner.mobile or partner.phone or commercial.mobile or commercial.phone
            )

    @api.depends("company_id")
    def _compute_collection_expiry_date(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            company = wizard.company_id or self.env.company
            wizard.collection_expiry_date = today + timedelta(
                days=company.collection_payment_link_days or 7
            )

    @api.depends("res_model", "res_id")
    def _compute_collection_order_total(self):
        for wizard in self:
            wizard.collection_order_total = (
                self.env["sale.order"].browse(wizard.res_id).amount_total
                if wizard.res_model == "sale.order" and wizard.res_id
                else 0.0
            )

    @api.onchange("collection_deposit_percent")
    def _onchange_collection_deposit_percent(self):
        if self.res_model == "sale.order" and self.collection_deposit_percent:
            self.amount = self.currency_id.round(
                self.collection_order_total * self.collection_deposit_percent / 100
            )

    @api.onchange("collection_invoice_ids")
    def _onchange_collection_invoice_ids(self):
        if self.collection_link_purpose == "settlement":
            self.amount = self.amount_max = self._collection_get_settlement_amount()

    def _collection_get_settlement_amount(self):
        self.ensure_one()
        return sum(self.collection_invoice_ids.mapped("amount_residual"))

    @api.depends("collection_link_purpose", "collection_invoice_ids")
    def _compute_warning_message(self):  # pylint: disable=missing-return
        super()._compute_warning_message()
        for wizard in self.filtered("collection_is_link"):
            wizard.warning_message = wizard._collection_get_problem() or ""

    def _collection_get_problem(self):
        """What makes this link impossible to send, or False.

        Also used by `action_collection_send`, which refuses it."""
        self.ensure_one()
        env = self.env
        currency = self.currency_id
        if self.collection_link_purpose == "settlement":
            problem = self._collection_check_settlement_invoices()
            if problem:
                return problem
            due = self._collection_get_settlement_amount()
            if currency.compare_amounts(self.amount, due):
                return env._(
                    "A settlement link is for the invoices' amount due, %(amount)s: "
                    "it cannot be for another amount.",
                    amount=format_amount(env, due, currency),
                )
            return False
        if currency.compare_amounts(self.amount, 0) <= 0:
            return env._("Please set a positive amount.")
        if self.collection_link_purpose == "deposit":
            order = env["sale.order"].browse(self.res_id)
            if order.state == "cancel":
                return env._("This order is cancelled: no deposit can be requested.")
            remaining = order.amount_total - order.amount_paid
            if currency.compare_amounts(self.amount, remaining) > 0:
                return env._(
                    "The deposit cannot be more than what is left to pay on the "
                    "order, %(amount)s.",
                    amount=format_amount(env, remaining, currency),
                )
        if (
            self.collection_link_purpose == "wallet"
            and not self.company_id.collection_wallet_account_id
        ):
            return env._(
                "No wallet account is set for %(company)s: choose one in Invoicing "
                "settings first.",
                company=self.company_id.name,
            )
        return False

    def _collection_check_settlement_invoices(self):
        env = self.env
        invoices = self.collection_invoice_ids
        if not invoices:
            return env._("Choose the invoices the link settles.")
        partner = self.partner_id.commercial_partner_id
        for invoice in invoices:
            if invoice.commercial_partner_id != partner:
                return env._(
                    "Invoice %(invoice)s is not %(partner)s's: a settlement link "
                    "only settles the invoices of one customer.",
                    invoice=invoice.name or invoice.display_name,
                    partner=partner.display_name,
                )
            if invoice.move_type != "out_invoice" or invoice.state != "posted":
                return env._(
                    "%(invoice)s is not a posted customer invoice.",
                    invoice=invoice.name or invoice.display_name,
                )
            if invoice.payment_state in (
                "paid",
                "in_payment",
                "reversed",
            ) or invoice.currency_id.is_zero(invoice.amount_residual):
                return env._(
                    "Invoice %(invoice)s is already paid.", invoice=invoice.name
                )
            if invoice.collection_block_reason:
                return env._(
                    "Invoice %(invoice)s is on hold (%(reason)s): it cannot be settled "
                    "by a payment link.",
                    invoice=invoice.name,
                    reason=dict(
                        invoice._fields[
                            "collection_block_reason"
                        ]._description_selection(env)
                    ).get(invoice.collection_block_reason),
                )
            if invoice.currency_id != self.currency_id:
                return env._(
                    "Invoice %(invoice)s is in %(currency)s: the invoices of one link "
                    "share one currency (%(link_currency)s).",
                    invoice=invoice.name,
                    currency=invoice.currency_id.name,
                    link_currency=self.currency_id.name,
                )
            if invoice.company_id != self.company_id:
                return env._(
                    "Invoice %(invoice)s belongs to another company.",
                    invoice=invoice.name,
                )
        return False

    # ------------------------------------------------------------------
    # The link
    # ------------------------------------------------------------------

    @api.depends("collection_link_purpose", "collection_invoice_ids", "collection_key")
    def _compute_link(self):  # pylint: disable=missing-return
        others = self.filtered(lambda wizard: not wizard.collection_is_link)
        super(PaymentLinkWizard, others)._compute_link()
        for wizard in self - others:
            if not wizard.res_id or wizard._collection_get_problem():
                wizard.link = False
                continue
            params = wizard._collection_get_link_params()
            document = self.env[wizard.res_model].browse(wizard.res_id)
            wizard.link = self.env["collection.link"]._collection_build_url(
                wizard.collection_key, params, document.get_base_url()
            )

    def _collection_get_link_params(self):
        self.ensure_one()
        order = (
            self.env["sale.order"].browse(self.res_id)
            if self.collection_link_purpose == "deposit"
            else None
        )
        partner = (
            order.partner_invoice_id
            if order
            else self.env["res.partner"].browse(self.res_id)
        )
        return self.env["collection.link"]._collection_link_params(
            self.collection_key,
            self.collection_link_purpose,
            partner,
            self.company_id,
            self.currency_id,
            self.amount,
            self.collection_expiry_date,
            order=order,
            invoices=self.collection_invoice_ids,
        )

    def _collection_check_access(self):
        user = self.env.user
        if self.collection_link_purpose == "deposit":
            allowed = user.has_group(
                "sales_team.group_sale_salesman"
            ) or user.has_group("account.group_account_invoice")
        else:
            allowed = user.has_group("account.group_account_invoice")
        if not allowed and not self.env.su:
            raise AccessError(
                self.env._("You are not allowed to send this payment link.")
            )

    def action_collection_send(self):
        """Store the link and send it to the customer by e-mail or SMS; log it
        in the document's chatter.

        :raise UserError: the link cannot be sent (its warning), or the address
            or number is missing or invalid
        """
        self.ensure_one()
        if not self.collection_is_link:
            raise UserError(
                self.env._(
                    "Only order deposits, wallet top-ups and settlements can be sent "
                    "from here."
                )
            )
        self._collection_check_access()
        problem = self._collection_get_problem()
        if problem:
            raise UserError(problem)
        channel = self.collection_channel
        if channel == "email":
            recipient = email_normalize(self.collection_email or "")
            if not recipient:
                raise UserError(
                    self.env._(
                        "%(address)s is not a valid e-mail address.",
                        address=self.collection_email or self.env._("An empty address"),
                    )
                    if self.collection_email
                    else self.env._(
                        "%(partner)s has no e-mail address: type one, or send the "
                        "link by SMS.",
                        partner=self.partner_id.display_name,
                    )
                )
        elif channel == "sms":
            number = (self.collection_mobile or "").strip()
            recipient = number and self.partner_id._phone_format(
                number=number,
                country=self.partner_id.country_id or self.company_id.country_id,
                force_format="E164",
            )
            if not recipient:
                raise UserError(
                    self.env._(
                        "%(number)s is not a valid mobile number.", number=number
                    )
                    if number
                    else self.env._(
                        "%(partner)s has no mobile number: type one, or send the "
                        "link by e-mail.",
                        partner=self.partner_id.display_name,
                    )
                )
        else:
            raise UserError(self.env._("Send the link by e-mail or by SMS."))

        link = self._collection_store_link(channel, recipient)
        if channel == "email":
            link._collection_send_email(recipient)
        else:
            link._collection_send_sms(recipient)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Payment link sent to %(recipient)s.", recipient=recipient
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _collection_store_link(self, channel, recipient):
        """The stored link of this wizard: a second send of the same wizard
        sends the same link again."""
        Link = self.env["collection.link"].sudo()
        params = self._collection_get_link_params()
        values = Link._collection_parse_params(self.collection_key, params)
        link = Link._collection_get_or_create(values, channel=channel)
        link.write(
            {
                "channel": channel,
                "recipient": recipient,
                "sent_date": fields.Datetime.now(),
            }
        )
        return link
