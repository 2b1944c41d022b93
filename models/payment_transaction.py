# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tools import SQL

from ..utils import CollectionUnknownOutcome

_logger = logging.getLogger(__name__)


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    collection_plan_id = fields.Many2one(
        comodel_name="collection.plan",
        string="Payment Plan",
        readonly=True,
        index="btree_not_null",
    )
    collection_installment_id = fields.Many2one(
        comodel_name="collection.plan.installment",
        string="Installment",
        readonly=True,
        index="btree_not_null",
    )
    collection_idempotency_key = fields.Char(
        readonly=True,
        copy=False,
        help="The key of this debit for the provider's idempotency: the same "
        "invoice (or installment) and attempt always give the same key, and the "
        "same reference (from which Odoo's Stripe integration derives its own), so "
        "that a debit sent again after a crash is not charged twice.",
    )
    collection_failure_code = fields.Char(
        string="Refusal Code",
        readonly=True,
        copy=False,
        help="The provider's code for the refusal of this debit (e.g. "
        "insufficient_funds).",
    )
    collection_failure_kind = fields.Selection(
        selection=[
            ("soft", "May pass: tried again"),
            ("hard", "Will not pass with this method"),
            ("authentication_required", "Customer authentication required"),
            ("not_sent", "Not sent: provider configuration or API error"),
        ],
        string="Refusal",
        readonly=True,
        copy=False,
    )
    collection_reversed = fields.Boolean(
        string="Reversed",
        readonly=True,
        copy=False,
        help="The debit was confirmed and booked, then failed late or was charged "
        "back: its payment was reversed.",
    )
    collection_reversal_move_id = fields.Many2one(
        comodel_name="account.move",
        string="Reversal Entry",
        readonly=True,
        copy=False,
    )

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `payment` to refuse paying an invoice on hold in full,
        whatever the route (an active plan's invoices are paid through the
        plan's installments)."""
        transactions = super().create(vals_list)
        transactions._collection_check_holds()
        return transactions

    def _collection_check_holds(self):
        for tx in self:
            for invoice in tx.invoice_ids.filtered("collection_block_reason"):
                plan = invoice.collection_plan_id
                if (
                    invoice.collection_block_reason == "plan_active"
                    and plan
                    and tx.collection_plan_id == plan
                ):
                    continue
                if invoice.collection_block_reason == "plan_proposed":
                    raise ValidationError(
                        self.env._(
                            "Invoice %(invoice)s is on hold while its payment plan "
                            "proposal %(plan)s is reviewed: it cannot be paid online "
                            "in full for now.",
                            invoice=invoice.name,
                            plan=plan.name,
                        )
                    )
                if invoice.collection_block_reason == "plan_active":
                    raise ValidationError(
                        self.env._(
                            "Invoice %(invoice)s is in the payment plan %(plan)s: it "
                            "is paid installment by installment, from the plan's "
                            "page.",
                            invoice=invoice.name,
                            plan=plan.name,
                        )
                    )
                raise ValidationError(
                    self.env._(
                        "Invoice %(invoice)s is on hold: it cannot be paid online "
                        "for now. Please contact us.",
                        invoice=invoice.name,
                    )
                )

    def _post_process(self):
        """Override of `account_payment` to follow up the automatic debits
        (pending, debited, refused and tried again or reported), once even when
        the job, a webhook and the customer's browser post-process at once: the
        transactions are locked first, so a second worker waits and, its snapshot
        being outdated, is rolled back and retried by Odoo."""
        if self:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM payment_transaction WHERE id IN %s FOR UPDATE",
                    tuple(self.ids),
                )
            )
        res = super()._post_process()
        self.filtered("collection_idempotency_key")._collection_follow_up()
        return res

    def _set_pending(self, state_message=None, **kwargs):
        txs = super()._set_pending(state_message=state_message, **kwargs)
        txs._collection_trigger_follow_up()
        return txs

    def _set_done(self, state_message=None, **kwargs):
        txs = super()._set_done(state_message=state_message, **kwargs)
        txs._collection_trigger_follow_up()
        return txs

    def _set_canceled(self, state_message=None, **kwargs):
        txs = super()._set_canceled(state_message=state_message, **kwargs)
        txs._collection_trigger_follow_up()
        return txs

    def _set_error(self, state_message, **kwargs):
        txs = super()._set_error(state_message, **kwargs)
        txs._collection_trigger_follow_up()
        return txs

    def _collection_trigger_follow_up(self):
        """Post-process the debits whose state the provider changed (a webhook,
        days after the debit) without waiting for the hourly job."""
        # Once per database transaction, at commit: a webhook batch of 250
        # events needs one run of the post-processing job, not 250 triggers.
        cache = self.env.cr.cache
        if not self.filtered("collection_idempotency_key") or cache.get(
            "collection_follow_up_pending"
        ):
            return
        cache["collection_follow_up_pending"] = True
        cron = self.env.ref("payment.cron_post_process_payment_tx")

        def trigger():
            cache.pop("collection_follow_up_pending", None)
            cron._trigger()

        self.env.cr.precommit.add(trigger)
        self.env.cr.postrollback.add(
            lambda: cache.pop("collection_follow_up_pending", None)
        )

    # ------------------------------------------------------------------
    # Automatic debits
    # ------------------------------------------------------------------

    @api.model
    def _collection_get_idempotency_key(self, record, attempt):
        """The key of a debit: the same for a given database, record (invoice
        or installment) and attempt, different otherwise."""
        source = "{}-{}-{}-{}".format(
            self.env["ir.config_parameter"].sudo().get_param("database.uuid"),
            record._name,
            record.id,
            attempt,
        )
        return hashlib.sha1(source.encode()).hexdigest()

    @api.model
    def _collection_create_debit(
        self, token, amount, invoices, record, attempt, **vals
    ):
        """Create the off-session transaction debiting ``amount`` from
        ``token`` for ``invoices``, with a reference and an idempotency key that
        only depend on ``record`` and ``attempt``.

        :param record: the ``account.move`` or ``collection.plan.installment``
            debited
        :param int attempt: the number of this attempt, from 1
        :return: the transaction, sudo
        """
        Transaction = self.sudo()
        prefix = f"{record._collection_get_debit_reference()}-{attempt}"
        return Transaction.create(
            {
                "provider_id": token.provider_id.id,
                "payment_method_id": token.payment_method_id.id,
                "reference": Transaction._compute_reference(
                    token.provider_id.code, prefix=prefix
                ),
                "amount": amount,
                "currency_id": invoices.currency_id[:1].id,
                "partner_id": token.partner_id.id,
                "token_id": token.id,
                "operation": "offline",
                "invoice_ids": [Command.set(invoices.ids)],
                "collection_idempotency_key": self._collection_get_idempotency_key(
                    record, attempt
                ),
                **vals,
            }
        )

    def _collection_send_debit(self):
        """Send this debit to its provider and follow up its answer. A provider
        error marks the transaction in error (the record of the debit stays)
        instead of being raised; a request left unanswered (timeout, lost
        connection, server error) leaves it as it is, to be sent again with the
        same reference and idempotency key.

        :return: whether the debit is done, pending or unanswered (None) or
            refused (False)
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._send_payment_request()
        except CollectionUnknownOutcome as error:
            _logger.warning(
                "automatic debit %s got no answer, to be sent again: %s",
                self.reference,
                error,
            )
            self._collection_log_on_targets(
                self.env._(
                    "Automatic debit %(reference)s got no answer from %(provider)s "
                    "(%(error)s): it is sent again, under the same reference, at "
                    "the next run; it cannot be charged twice.",
                    reference=self.reference,
                    provider=self.provider_id.name,
                    error=str(error),
                )
            )
            self.env.ref(
                "account_payment_collection.ir_cron_collection_send_due"
            )._trigger(fields.Datetime.now() + timedelta(minutes=15))
            return None
        except Exception as error:  # noqa: BLE001 - any provider or SDK error
            _logger.warning(
                "automatic debit %s could not be sent: %s",
                self.reference,
                type(error).__name__,
            )
            message = error.args[0] if error.args else type(error).__name__
            if not self.collection_failure_kind:
                # Not the customer's refusal: the accountant fixes it.
                self.collection_failure_kind = "not_sent"
            self._set_error(str(message))
        if self.state != "draft":
            self._post_process()
        if self.state in ("error", "cancel"):
            return False
        return True if self.state == "done" else None

    @api.model
    def _collection_resend_unanswered(self, limit=200):
        """Send again, as they are, the debits whose request got no answer: the
        provider answers with the outcome of the first request (same idempotency
        key), so nothing is charged twice."""
        txs = self.sudo().search(
            [
                ("collection_idempotency_key", "!=", False),
                ("state", "=", "draft"),
                ("operation", "=", "offline"),
            ],
            order="id",
            limit=limit,
        )
        for tx in txs:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM payment_transaction WHERE id = %s"
                    " FOR NO KEY UPDATE SKIP LOCKED",
                    tx.id,
                )
            )
            if self.env.cr.fetchone():
                tx._collection_send_debit()

    def _collection_get_targets(self):
        """What this debit pays: its installment, else the invoices whose
        current debit it is."""
        self.ensure_one()
        if self.collection_installment_id:
            return self.collection_installment_id
        return self.invoice_ids.filtered(
            lambda inv: inv.collection_transaction_id == self
        )

    def _collection_log_on_targets(self, body):
        for target in self._collection_get_targets():
            (
                target.plan_id
                if target._name == "collection.plan.installment"
                else target
            )._message_log(body=body)

    def _collection_follow_up(self):
        for tx in self:
            for target in tx._collection_get_targets():
                target._collection_on_debit_outcome(tx)

    def _collection_reverse(self, reason, kind):
        """This debit, confirmed and booked, failed late or was charged back:
        reverse its payment so that what it paid is open again, to the cent,
        and tell the accountant and the customer. A debit not booked yet is
        simply refused. Idempotent.

        :param str reason: what the provider says
        :param str kind: ``"late_failure"`` or ``"chargeback"``
        """
        for tx in self.sudo():
            # The reversal is made in the debit's company, whoever calls.
            tx = tx.with_company(tx.company_id)  # noqa: PLW2901
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM payment_transaction WHERE id = %s FOR UPDATE",
                    tx.id,
                )
            )
            tx.invalidate_recordset()
            if tx.collection_reversed:
                continue
            if tx.state in ("draft", "pending", "authorized"):
                tx.collection_failure_kind = tx.collection_failure_kind or "hard"
                tx._set_error(reason)
                tx._post_process()
                continue
            if tx.state != "done":
                continue
            if not tx.payment_id and not tx.is_post_processed:
                tx._post_process()  # book it first, then reverse it
            reversal = tx._collection_reverse_payment(reason, kind)
            tx.write(
                {
                    "collection_reversed": True,
                    "collection_reversal_move_id": reversal.id,
                }
            )
            _logger.info("debit %s reversed (%s)", tx.reference, kind)
            for target in tx._collection_get_targets():
                target._collection_on_debit_reversed(tx, kind, reason)

    def _collection_reverse_payment(self, reason, kind):
        """Unreconcile this debit's payment from what it paid and reverse its
        entry (the payment is then rejected).

        :return: the reversal entry, or an empty recordset without a payment
        """
        self.ensure_one()
        payment = self.payment_id
        move = payment.move_id
        if not payment or move.state != "posted":
            return self.env["account.move"]
        move.line_ids.filtered(
            lambda line: line.account_id.reconcile
            and line.account_id.account_type == "asset_receivable"
        ).remove_move_reconcile()
        label = (
            self.env._("Chargeback of %(reference)s", reference=self.reference)
            if kind == "chargeback"
            else self.env._("Failed debit %(reference)s", reference=self.reference)
        )
        reversal = move._reverse_moves(
            [
                {
                    "ref": f"{label}: {reason}"[:250],
                    "date": fields.Date.context_today(self),
                }
            ],
            cancel=True,
        )
        payment.action_reject()
        return reversal
