# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Command

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
        """Override of `account_payment` to schedule the next due date of the
        invoices debited in part (multi-installment payment terms) and to report
        the debits that failed."""
        res = super()._post_process()
        self._collection_sync_debited_invoices()
        return res

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
        """Send this debit to its provider and book it if the provider confirms
        it at once. A provider error marks the transaction in error (the
        record of the debit stays) instead of being raised.

        :return: whether the debit is done, pending (None) or failed (False)
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._send_payment_request()
        except Exception as error:  # noqa: BLE001 - any provider or SDK error
            _logger.warning(
                "automatic debit %s could not be sent: %s",
                self.reference,
                type(error).__name__,
            )
            message = error.args[0] if error.args else type(error).__name__
            self._set_error(str(message))
        if self.state == "done":
            self._post_process()
            return True
        if self.state in ("error", "cancel"):
            return False
        return None

    def _collection_sync_debited_invoices(self):
        """Debited invoices still open after their debit (the next installment
        of their payment term is not due yet) wait for the next due date."""
        for tx in self.filtered(lambda t: t.state == "done"):
            tx.invoice_ids.filtered(
                lambda inv, tx=tx: inv.collection_state == "sent"
                and inv.collection_transaction_id == tx
                and inv._collection_is_open()
            ).write({"collection_state": "scheduled"})
