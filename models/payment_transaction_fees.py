# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Online payments integrated into accounting with their exact fee.

Each done provider transaction gets its provider's exact fee
(``collection_fee_amount``) and is integrated ONCE
(``collection_integration_state``): one ``account.payment`` made by Odoo's own
``_create_payment`` whose counterpart is the gross amount (reconciled with the
invoices), whose write-off line is the fee on the provider's commission account
and whose outstanding-receipts line is the net. A fee only known later (a
GoCardless payout) is booked when it is known, as an entry of its own.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.payment import utils as payment_utils

from ..const import STRIPE_FEE_EXPAND

_logger = logging.getLogger(__name__)


class _Integrating:
    """The mark, in a context, of the integration of online payments by an
    accountant (or of Odoo's post-processing in automatic mode): only then is
    the payment made. Being a Python object, no context sent by a client (JSON
    or XML) can carry it."""

    __slots__ = ()

    def __repr__(self):
        return "<online payments integration>"


INTEGRATING = _Integrating()


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    collection_fee_amount = fields.Monetary(
        string="Fee",
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="The provider's exact fee for this payment, in the payment's "
        "currency, as the provider reports it (Stripe's balance transaction, "
        "PayPal's seller receivable breakdown, GoCardless's payout items).",
    )
    collection_fee_state = fields.Selection(
        selection=[("pending", "Not known yet"), ("known", "Known")],
        string="Fee Status",
        readonly=True,
        copy=False,
        help="Not known yet: the provider reports the fee later (GoCardless, with "
        "the payout); it is booked when it is known, never estimated.",
    )
    collection_fee_rate = fields.Float(
        string="Provider's Exchange Rate",
        digits=0,
        readonly=True,
        copy=False,
        help="The rate the provider converted the payment with, from its currency "
        "to the company's, when it reports one.",
    )
    collection_company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    collection_fee_balance = fields.Monetary(
        string="Fee in Company Currency",
        currency_field="collection_company_currency_id",
        readonly=True,
        copy=False,
        help="The fee in the company's currency when the provider reports it so "
        "(its balance currency is the company's).",
    )
    collection_net_amount = fields.Monetary(
        string="Net",
        currency_field="currency_id",
        compute="_compute_collection_net_amount",
        store=True,
        help="What the provider pays out: the amount paid less its fee.",
    )
    collection_integration_state = fields.Selection(
        selection=[("to_integrate", "To integrate"), ("integrated", "Integrated")],
        string="Integration",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="To integrate: received from the provider, waiting for an accountant "
        "to book it (Invoicing settings, Integrate online payments: after "
        "review).\nIntegrated: booked as the customer's payment, with its fee.",
    )
    collection_fee_in_payment = fields.Boolean(
        string="Fee Booked with the Payment",
        readonly=True,
        copy=False,
    )
    collection_fee_move_id = fields.Many2one(
        comodel_name="account.move",
        string="Fee Entry",
        readonly=True,
        copy=False,
        help="The entry of the fee, when the provider reported it after the "
        "payment was booked.",
    )

    @api.depends("amount", "collection_fee_amount")
    def _compute_collection_net_amount(self):
        for tx in self:
            tx.collection_net_amount = tx.amount - tx.collection_fee_amount

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_collection_integrate(self):
        """Integrate these online payments into accounting, each once: the
        customer's payment reconciled with its documents, the fee on the
        provider's commission account, the net on its journal. Payments already
        integrated are skipped (their fee is booked if it became known).

        Two accountants integrating at once: the transactions are locked first,
        so the second waits, then finds them integrated.

        :return: a notification
        :rtype: dict
        :raise AccessError: for a user who is not an accountant
        :raise UserError: when a transaction is not done; nothing is booked
        """
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(
                self.env._("Only accountants can integrate online payments.")
            )
        if not self:
            raise UserError(self.env._("Select the online payments to integrate."))
        self._collection_lock()
        txs = self.sudo()
        refused = txs.filtered(
            lambda tx: tx.state != "done" or tx.operation == "validation"
        )
        if refused:
            states = dict(self._fields["state"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "Only payments the provider confirmed can be integrated: "
                    "%(payments)s.",
                    payments=", ".join(
                        self.env._(
                            "%(reference)s is %(state)s",
                            reference=tx.reference,
                            state=states.get(tx.state, tx.state)
                            if tx.operation != "validation"
                            else self.env._("a card check"),
                        )
                        for tx in refused
                    ),
                )
            )
        booked = txs._collection_integrate()
        if booked:
            message = self.env._(
                "%(count)s online payment(s) integrated into accounting.",
                count=len(booked),
            )
        else:
            message = self.env._(
                "Nothing to integrate: these online payments are already integrated."
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success" if booked else "info",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # Integration
    # ------------------------------------------------------------------

    def _collection_lock(self):
        """Lock these transactions until the end of the database transaction."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM payment_transaction WHERE id IN %s "
                    "ORDER BY id FOR UPDATE",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset()

    def _collection_integrate(self):
        """Book these done transactions (locked, sudo) that are not booked yet,
        through Odoo's own payment creation; follow up the automatic debits
        among them.

        :return: the transactions booked now
        """
        booked = self.browse()
        for tx in self:
            tx = tx.with_company(tx.company_id)  # noqa: PLW2901
            if tx.payment_id or tx.collection_integration_state == "integrated":
                if tx.collection_fee_state == "pending":
                    tx._collection_update_fee()  # a fee known since is booked
                continue
            integrating = tx.with_context(collection_integrating=INTEGRATING)
            if not tx.is_post_processed:
                # Not post-processed yet: Odoo's own post-processing, which
                # now books the payment (and confirms orders, invoices them...).
                integrating._post_process()
            elif not any(
                child.state in ("done", "cancel") for child in tx.child_transaction_ids
            ):
                tx.invoice_ids.filtered(lambda inv: inv.state == "draft").action_post()
                payment = integrating._create_payment()
                tx._log_message_on_linked_documents(
                    self.env._(
                        "The payment related to the transaction with reference "
                        "%(ref)s has been posted: %(link)s",
                        ref=tx.reference,
                        link=payment._get_html_link(),
                    )
                )
                if tx.collection_idempotency_key:
                    tx._collection_follow_up()
            if tx.collection_integration_state != "integrated":
                # Booked on its captures, as Odoo does, when it has some.
                tx.collection_integration_state = "integrated"
            booked |= tx
        return booked

    def _create_payment(self, **extra_create_values):
        """Override of `account_payment` to book the provider's fee: the payment's
        counterpart is the gross amount, its write-off line the fee on the
        provider's commission account, its outstanding line the net. When the
        company integrates online payments after review, no payment is made
        here: the transaction waits in the integration screen."""
        self.ensure_one()
        if self.payment_id:
            return self.payment_id
        self._collection_update_fee()
        if (
            self.env.context.get("collection_integrating") is not INTEGRATING
            and self.company_id.collection_online_integration == "manual"
        ):
            self.collection_integration_state = "to_integrate"
            return self.env["account.payment"]
        fee_lines = self._collection_prepare_fee_line_values()
        if fee_lines:
            extra_create_values["amount"] = self.currency_id.round(
                abs(self.amount) - self.collection_fee_amount
            )
            extra_create_values["write_off_line_vals"] = [
                *extra_create_values.get("write_off_line_vals", []),
                *fee_lines,
            ]
        payment = super()._create_payment(**extra_create_values)
        self.write(
            {
                "collection_integration_state": "integrated",
                "collection_fee_in_payment": bool(fee_lines),
            }
        )
        return payment

    def _collection_follow_up(self):
        """Override of the add-on's debit follow-up: a debit done but waiting
        for its integration is followed up once integrated (its invoice stays
        in flight meanwhile: neither debited again nor reminded)."""
        waiting = self.filtered(
            lambda tx: tx.state == "done"
            and tx.collection_integration_state == "to_integrate"
        )
        return super(PaymentTransaction, self - waiting)._collection_follow_up()

    def _collection_reverse_payment(self, reason, kind):
        """Override of the add-on's reversal of a debit failed late or charged
        back: a debit still waiting for its integration is booked first (the
        money was received, then taken back); the fee the provider keeps stays
        booked."""
        self.ensure_one()
        if not self.payment_id and self.collection_integration_state == "to_integrate":
            self._collection_integrate()
        reversal = super()._collection_reverse_payment(reason, kind)
        if (
            reversal
            and self.collection_fee_in_payment
            and self.collection_fee_amount
            and not self._collection_fee_returned_on_reversal(kind)
        ):
            self._collection_book_fee_entry(
                self.env._(
                    "Fee of %(reference)s kept by %(provider)s",
                    reference=self.reference,
                    provider=self.provider_id.name,
                )
            )
        return reversal

    def _collection_fee_returned_on_reversal(self, kind):
        """Whether the provider gives its fee back when the payment is reversed
        (``kind``: ``late_failure`` or ``chargeback``). Stripe, PayPal and
        GoCardless keep it.

        :rtype: bool
        """
        return self.provider_code not in ("stripe", "paypal", "gocardless")

    # ------------------------------------------------------------------
    # Fees
    # ------------------------------------------------------------------

    def _collection_update_fee(self):
        """Ask the provider for the fee of these done payments whose fee is not
        known yet. A provider that cannot be reached leaves the fee not known
        yet: it is asked again at the next integration."""
        for tx in self:
            if (
                tx.collection_fee_state == "known"
                or tx.state != "done"
                or tx.amount <= 0
                or tx.operation == "validation"
            ):
                continue
            try:
                with self.env.cr.savepoint():
                    fee = tx._collection_fetch_fee()
            except (UserError, ValidationError) as error:
                _logger.warning(
                    "fee of transaction %s not read from %s: %s",
                    tx.reference,
                    tx.provider_code,
                    error.args[0] if error.args else type(error).__name__,
                )
                fee = None
            if fee is False:
                continue  # a provider without fees
            if fee is None:
                if tx.collection_fee_state != "pending":
                    tx.collection_fee_state = "pending"
                continue
            tx._collection_set_fee(*fee)

    def _collection_fetch_fee(self):
        """The provider's exact fee for this done payment.

        :return: ``(fee, rate, balance)`` (the fee in the payment's currency, the
            provider's exchange rate to the company's currency or 0, the fee in
            the company's currency or None); ``None`` when the provider reports
            it later; ``False`` for a provider without fees
        """
        self.ensure_one()
        if self.provider_code == "stripe":
            return self._stripe_collection_fetch_fee()
        if self.provider_code in ("paypal", "gocardless"):
            return None  # With the capture (PayPal), the payout (GoCardless).
        return False

    def _collection_set_fee(self, fee, rate=0.0, balance=None):
        """Record the provider's exact fee of this payment, once; book it at
        once when the payment was booked without it.

        :param float fee: in the payment's currency
        :param float rate: the provider's rate to the company's currency, or 0
        :param float balance: the fee in the company's currency, if reported
        :return: whether the fee was recorded now
        """
        self.ensure_one()
        self._collection_lock()
        if self.collection_fee_state == "known":
            return False
        self.write(
            {
                "collection_fee_amount": self.currency_id.round(fee),
                "collection_fee_state": "known",
                "collection_fee_rate": rate or 0.0,
                "collection_fee_balance": balance or 0.0,
            }
        )
        _logger.info(
            "transaction %s: fee %s %s", self.reference, fee, self.currency_id.name
        )
        if (
            self.payment_id
            and not self.collection_fee_in_payment
            and not self.collection_fee_move_id
            and self.collection_fee_amount
        ):
            self.collection_fee_move_id = self._collection_book_fee_entry(
                self.env._(
                    "Fee of %(reference)s (%(provider)s)",
                    reference=self.reference,
                    provider=self.provider_id.name,
                )
            )
        return True

    def _collection_get_fee_balance(self, amount):
        """``amount`` of fee in the company's currency: the provider's own
        figure or rate when it reports one, else Odoo's rate of the day."""
        self.ensure_one()
        company_currency = self.company_id.currency_id
        if self.currency_id == company_currency:
            return amount
        if self.collection_fee_balance and amount == self.collection_fee_amount:
            return self.collection_fee_balance
        if self.collection_fee_rate:
            return company_currency.round(amount * self.collection_fee_rate)
        return self.currency_id._convert(
            amount, company_currency, self.company_id, fields.Date.context_today(self)
        )

    def _collection_prepare_fee_line_values(self):
        """The write-off line of the fee in the payment Odoo makes for this
        transaction (none without a known fee, or for a refund).

        :rtype: list
        """
        self.ensure_one()
        if (
            self.collection_fee_state != "known"
            or not self.collection_fee_amount
            or self.amount <= 0
        ):
            return []
        account = self.provider_id._collection_get_fee_account()
        return [
            {
                "name": self.env._(
                    "Fee of %(provider)s", provider=self.provider_id.name
                ),
                "account_id": account.id,
                "partner_id": self.partner_id.commercial_partner_id.id,
                "currency_id": self.currency_id.id,
                "amount_currency": self.collection_fee_amount,
                "balance": self._collection_get_fee_balance(self.collection_fee_amount),
            }
        ]

    def _collection_book_fee_entry(self, label):
        """Post the entry of this payment's fee, known after the payment was
        booked (or kept by the provider after a reversal): the fee on the
        commission account against the outstanding account of the payment,
        reconciled with the payment's outstanding line while it is open, so that
        what stays open there is the net the provider pays out.

        :param str label: the entry's reference
        :return: the posted entry
        """
        self.ensure_one()
        payment = self.payment_id
        account = self.provider_id._collection_get_fee_account()
        outstanding = payment.outstanding_account_id
        fee = self.collection_fee_amount
        balance = self._collection_get_fee_balance(fee)
        partner = payment.partner_id
        common = {"currency_id": self.currency_id.id, "name": label}
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": payment.journal_id.id,
                    "date": fields.Date.context_today(self),
                    "ref": label,
                    "line_ids": [
                        fields.Command.create(
                            {
                                **common,
                                "account_id": account.id,
                                "partner_id": partner.id,
                                "amount_currency": fee,
                                "balance": balance,
                            }
                        ),
                        fields.Command.create(
                            {
                                **common,
                                "account_id": outstanding.id,
                                "partner_id": partner.id,
                                "amount_currency": -fee,
                                "balance": -balance,
                            }
                        ),
                    ],
                }
            )
        )
        move.action_post()
        if outstanding.reconcile:
            lines = (move.line_ids | payment.move_id.line_ids).filtered(
                lambda line: line.account_id == outstanding and not line.reconciled
            )
            if lines.filtered(lambda line: line.move_id == move) and lines.filtered(
                lambda line: line.move_id == payment.move_id
            ):
                lines.reconcile()
        _logger.info("transaction %s: fee entry %s posted", self.reference, move.name)
        return move

    # ------------------------------------------------------------------
    # Stripe: the charge's balance transaction
    # ------------------------------------------------------------------

    def _stripe_collection_fetch_fee(self):
        """The fee of this Stripe payment, from the balance transaction of the
        PaymentIntent's charge (a SEPA debit has one once its charge succeeded).

        :return: see ``_collection_fetch_fee``
        """
        self.ensure_one()
        if not (self.provider_reference or "").startswith("pi_"):
            return None
        intent = self.provider_id._stripe_call(
            "payment_intents",
            "retrieve",
            self.provider_reference,
            params={"expand": STRIPE_FEE_EXPAND},
        )
        charge = getattr(intent, "latest_charge", None)
        if not charge or isinstance(charge, str) or charge.status != "succeeded":
            return None
        balance_tx = getattr(charge, "balance_transaction", None)
        if not balance_tx or isinstance(balance_tx, str):
            return None
        balance_currency = self.env["res.currency"].search(
            [("name", "=", balance_tx.currency.upper())], limit=1
        )
        if not balance_currency:
            return None
        fee = payment_utils.to_major_currency_units(balance_tx.fee, balance_currency)
        if balance_currency == self.currency_id:
            return fee, 0.0, None
        exchange_rate = getattr(balance_tx, "exchange_rate", None)
        if not exchange_rate:
            return None
        if balance_currency == self.company_id.currency_id:
            return self.currency_id.round(fee / exchange_rate), exchange_rate, fee
        return self.currency_id.round(fee / exchange_rate), 0.0, None

    # ------------------------------------------------------------------
    # PayPal: the capture's seller receivable breakdown
    # ------------------------------------------------------------------

    def _process_notification_data(self, notification_data):
        """Override of `payment_paypal` to record PayPal's exact fee of a
        completed capture (its ``seller_receivable_breakdown``)."""
        res = super()._process_notification_data(notification_data)
        if self.provider_code == "paypal" and self.state == "done":
            fee = self._paypal_collection_get_fee(notification_data)
            if fee:
                self._collection_set_fee(*fee)
            elif not self.collection_fee_state:
                self.collection_fee_state = "pending"
        return res

    def _paypal_collection_get_fee(self, notification_data):
        """PayPal's fee of the capture in ``notification_data`` (the capture
        answered to Odoo's capture request, or the order of a webhook event).

        :return: ``(fee, rate, balance)``, or None when PayPal did not say
        """
        breakdown = notification_data.get("seller_receivable_breakdown")
        if not breakdown:
            captures = (notification_data.get("payments") or {}).get("captures") or []
            breakdown = captures and captures[0].get("seller_receivable_breakdown")
        paypal_fee = (breakdown or {}).get("paypal_fee") or {}
        if paypal_fee.get("currency_code") != self.currency_id.name:
            return None
        fee = float(paypal_fee.get("value") or 0.0)
        exchange_rate = breakdown.get("exchange_rate") or {}
        rate = 0.0
        if (
            exchange_rate.get("source_currency") == self.currency_id.name
            and exchange_rate.get("target_currency") == self.company_id.currency_id.name
        ):
            rate = float(exchange_rate.get("value") or 0.0)
        return fee, rate, None
