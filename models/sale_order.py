# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .account_move_pay_button import qr_code_data_uri


class SaleOrder(models.Model):
    _inherit = "sale.order"

    collection_deposit_amount = fields.Monetary(
        string="Deposit Received",
        compute="_compute_collection_deposit",
        store=True,
        help="What the customer paid on this order before its invoice, from the "
        "posted payments of its online transactions.",
    )
    collection_deposit_received = fields.Boolean(
        string="Deposit Received?",
        compute="_compute_collection_deposit",
        store=True,
        index=True,
    )
    collection_deposit_date = fields.Date(
        string="Deposit Date", compute="_compute_collection_deposit", store=True
    )
    collection_deposit_transaction_id = fields.Many2one(
        comodel_name="payment.transaction",
        string="Deposit Transaction",
        compute="_compute_collection_deposit",
        store=True,
    )
    collection_deposit_fixed_amount = fields.Monetary(
        string="Fixed Deposit",
        copy=True,
        help="With online payment required: the deposit the customer pays online "
        "to confirm the quotation, instead of the percentage.",
    )
    collection_link_ids = fields.One2many(
        comodel_name="collection.link",
        inverse_name="sale_order_id",
        string="Payment Links",
        readonly=True,
    )
    collection_link_count = fields.Integer(compute="_compute_collection_link_count")

    @api.depends(
        "transaction_ids.state",
        "transaction_ids.payment_id.state",
        "transaction_ids.payment_id.amount",
    )
    def _compute_collection_deposit(self):
        for order in self:
            payments = (
                order.sudo()
                .transaction_ids.filtered(lambda tx: tx.state == "done")
                .payment_id.filtered(
                    lambda payment: payment.state in ("in_process", "paid")
                )
            )
            amount = sum(
                payment.amount if payment.payment_type == "inbound" else -payment.amount
                for payment in payments
            )
            received = order.currency_id.compare_amounts(amount, 0) > 0
            inbound = payments.filtered(
                lambda payment: payment.payment_type == "inbound"
            )
            last = inbound.sorted(lambda payment: (payment.date, payment.id))[-1:]
            order.collection_deposit_amount = amount if received else 0.0
            order.collection_deposit_received = received
            order.collection_deposit_date = last.date if received else False
            order.collection_deposit_transaction_id = (
                last.payment_transaction_id if received else False
            )

    @api.constrains("collection_deposit_fixed_amount", "amount_total")
    def _check_collection_deposit_fixed_amount(self):
        for order in self.filtered("collection_deposit_fixed_amount"):
            currency = order.currency_id
            if currency.compare_amounts(order.collection_deposit_fixed_amount, 0) < 0:
                raise ValidationError(
                    self.env._(
                        "The fixed deposit of %(order)s cannot be negative.",
                        order=order.name,
                    )
                )
            if (
                order.state in ("draft", "sent")
                and currency.compare_amounts(
                    order.collection_deposit_fixed_amount, order.amount_total
                )
                > 0
            ):
                raise ValidationError(
                    self.env._(
                        "The fixed deposit of %(order)s cannot be more than its total.",
                        order=order.name,
                    )
                )

    def _get_prepayment_required_amount(self):
        """Override of `sale`: a fixed deposit replaces the percentage."""
        self.ensure_one()
        if self.require_payment and self.collection_deposit_fixed_amount:
            return min(
                self.currency_id.round(self.collection_deposit_fixed_amount),
                self.amount_total,
            )
        return super()._get_prepayment_required_amount()

    def _collection_get_deposit_in_progress(self):
        """The online payments of this quotation the provider has not
        confirmed yet (a SEPA debit, an authorisation): while one is under way,
        no other deposit can be paid online."""
        self.ensure_one()
        return self.sudo().transaction_ids.filtered(
            lambda tx: tx.state in ("pending", "authorized")
            and tx.operation != "refund"
        )

    def _has_to_be_paid(self):
        """Override of `sale`: one deposit payable online at a time - not while
        a payment is pending at the provider."""
        return (
            super()._has_to_be_paid() and not self._collection_get_deposit_in_progress()
        )

    def _collection_check_online_deposit(self, amount):
        """Refuse an online payment of this quotation from its portal page
        unless it can be paid and ``amount`` is what the page offers: the
        deposit (what is left of it) or the rest of the total.

        :raise ValidationError: with a clear message
        """
        self.ensure_one()
        env = self.env
        if self._collection_get_deposit_in_progress():
            raise ValidationError(
                env._(
                    "A payment of %(order)s is already being processed: wait for its "
                    "confirmation before paying again.",
                    order=self.name,
                )
            )
        currency = self.currency_id
        remaining = self.amount_total - self.amount_paid
        if self.state in ("draft", "sent") and self.require_payment:
            deposit = self._get_prepayment_required_amount() - self.amount_paid
            offered = [deposit, remaining]
        else:
            offered = [remaining]
        if amount is None or not any(
            currency.compare_amounts(amount, value) == 0
            for value in offered
            if value > 0
        ):
            raise ValidationError(
                env._("The amount to pay has changed: please reload the page.")
            )

    def _collection_get_qr_code(self, url):
        """``url`` as a QR code (an SVG data URI) for the quotation's PDF."""
        return qr_code_data_uri(url)

    def _compute_collection_link_count(self):
        counts = dict(
            self.env["collection.link"]
            .sudo()
            ._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.collection_link_count = counts.get(order._origin, 0)

    def action_collection_request_deposit(self):
        """Odoo's payment link wizard, to send the customer a link paying a
        deposit on this order by e-mail or SMS."""
        self.ensure_one()
        if self.state == "cancel":
            raise UserError(
                self.env._("Order %(order)s is cancelled.", order=self.name)
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Request a Deposit"),
            "res_model": "payment.link.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"active_model": "sale.order", "active_id": self.id},
        }

    def action_collection_view_links(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_collection.collection_link_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
