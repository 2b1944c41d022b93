# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import models

from odoo.addons.payment_stripe import const as stripe_const

from ..const import STRIPE_DEFAULT_FAILURE_KIND, STRIPE_FAILURE_KINDS
from .payment_provider_stripe import StripeDebitRequest

_logger = logging.getLogger(__name__)


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _stripe_create_intent(self):
        """Override of `payment_stripe` to mark the request of an automatic debit
        (the off-session PaymentIntent `payment_stripe` creates with its
        idempotency key, derived from the reference): see
        `payment.provider._stripe_make_request`."""
        if self.provider_code != "stripe" or not self._stripe_is_collection_debit():
            return super()._stripe_create_intent()
        debit = StripeDebitRequest(self)
        return super(
            PaymentTransaction, self.with_context(collection_stripe_debit=debit)
        )._stripe_create_intent()

    def _process_notification_data(self, notification_data):
        """Override of `payment_stripe` to classify the failure of an automatic
        debit that Stripe reports (a card refused at once, a SEPA debit refused by
        the bank after `processing`) before the transaction is set in error.

        The classification is made before calling super(): the state change to
        `error` starts the post-processing of the debit, which reads it.
        """
        if (
            self.provider_code == "stripe"
            and self._stripe_is_collection_debit()
            and self.state in ("draft", "pending", "authorized")
            and not self.collection_failure_kind
        ):
            intent = notification_data.get("payment_intent") or {}
            if intent.get("status") in stripe_const.STATUS_MAPPING["error"]:
                self._stripe_collection_set_failure(
                    intent.get("last_payment_error") or {}
                )
        return super()._process_notification_data(notification_data)

    def _stripe_is_collection_debit(self):
        """Whether this transaction is an automatic debit of the add-on."""
        self.ensure_one()
        return self.operation == "offline" and bool(self.collection_idempotency_key)

    def _stripe_collection_set_failure(self, error):
        """Record why Stripe refused this debit, and the kind of failure.

        :param dict error: Stripe's error (``error`` of the answer, or the
            ``last_payment_error`` of the PaymentIntent)
        """
        self.ensure_one()
        decline_code = error.get("decline_code")
        code = error.get("code")
        kind = (
            STRIPE_FAILURE_KINDS.get(decline_code)
            or STRIPE_FAILURE_KINDS.get(code)
            or STRIPE_DEFAULT_FAILURE_KIND
        )
        self.write(
            {
                "collection_failure_code": decline_code
                or code
                or error.get("type")
                or False,
                "collection_failure_kind": kind,
            }
        )
        _logger.info(
            "stripe debit %s refused: %s (%s)",
            self.reference,
            self.collection_failure_code,
            kind,
        )

    def _stripe_collection_process_dispute(self, dispute):
        """The customer disputed this debit with their bank (a chargeback): its
        booked payment is reversed (a debit not booked yet is refused)."""
        self.ensure_one()
        reason = self.env._(
            "The customer disputed the debit with their bank (reason: %(reason)s).",
            reason=dispute.get("reason") or self.env._("not given"),
        )
        _logger.info(
            "stripe dispute %s on debit %s in state %s",
            dispute.get("id"),
            self.reference,
            self.state,
        )
        self._collection_reverse(reason, "chargeback")
