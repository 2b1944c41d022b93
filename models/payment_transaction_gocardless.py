# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import re

from odoo import models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.payment import utils as payment_utils

from .. import const
from .payment_provider import GoCardlessError

_logger = logging.getLogger(__name__)

# The characters SEPA allows in a payment reference; any other becomes "-".
SEPA_REFERENCE_FORBIDDEN = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
# The event actions that come with the failure of a payment (and its cause).
FAILURE_ACTIONS = (
    "failed",
    "late_failure_settled",
    "cancelled",
    "customer_approval_denied",
    "charged_back",
    "chargeback_settled",
)


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _send_payment_request(self):
        """Override of `payment` to debit the mandate of the token through
        GoCardless.

        A refusal because the mandate can no longer be debited puts the
        transaction in error (a hard failure) and deactivates the token.

        :raise UserError: when the transaction has no token
        :raise CollectionUnknownOutcome: when GoCardless did not answer: the
            payment may exist; the same transaction is sent again later with the
            same idempotency key, and GoCardless answers with that payment
        """
        super()._send_payment_request()
        if self.provider_code != "gocardless":
            return
        if not self.token_id:
            raise UserError(
                self.env._("GoCardless: the transaction is not linked to a mandate.")
            )
        idempotency_key = (
            self.collection_idempotency_key
            or payment_utils.generate_idempotency_key(self, scope="payments")
        )
        try:
            payment = self.provider_id._gocardless_call(
                "payments",
                "create",
                params=self._gocardless_prepare_payment_payload(),
                idempotency_key=idempotency_key,
                debit=True,
            )
        except GoCardlessError as error:
            if error.error_type not in ("invalid_state", "validation_failed"):
                raise  # Not about this debit (credentials, rights...).
            mandate_inactive = bool(
                set(error.reasons) & set(const.GOCARDLESS_MANDATE_INACTIVE_REASONS)
            )
            self.write(
                {
                    "collection_failure_code": (error.reasons or (error.error_type,))[
                        0
                    ],
                    "collection_failure_kind": "hard",
                }
            )
            self._set_error(error.args[0])
            if mandate_inactive:
                self.token_id._collection_deactivate(error.args[0])
            return
        _logger.info(
            "gocardless payment %s created for transaction %s",
            payment.id,
            self.reference,
        )
        self._handle_notification_data(
            "gocardless",
            {
                "payment_id": payment.id,
                "payment": payment.attributes,
                "reference": self.reference,
            },
        )

    def _gocardless_prepare_payment_payload(self):
        """The GoCardless payment debiting the transaction's mandate.

        :rtype: dict
        """
        self.ensure_one()
        invoice_names = ", ".join(self.invoice_ids.mapped("name"))
        return {
            "amount": payment_utils.to_minor_currency_units(
                self.amount, self.currency_id
            ),
            "currency": self.currency_id.name,
            "reference": SEPA_REFERENCE_FORBIDDEN.sub("-", self.reference)[:140],
            "description": (invoice_names or self.reference)[:140],
            "metadata": {
                "odoo_reference": self.reference,
                "odoo_database": self._gocardless_get_database_uuid(),
            },
            # Retries are this add-on's (company setting), not GoCardless's.
            "retry_if_possible": False,
            "links": {"mandate": self.token_id.provider_ref},
        }

    def _gocardless_get_reference_from_metadata(self, metadata):
        """The reference of the transaction a GoCardless payment was created
        for, from the payment's metadata, when it was created by this database.

        :param dict metadata: the payment's metadata
        :return: the reference, or None for a payment made elsewhere (the
            GoCardless dashboard, another database)
        :rtype: str
        """
        metadata = metadata or {}
        database_uuid = metadata.get("odoo_database")
        if database_uuid and database_uuid != self._gocardless_get_database_uuid():
            return None
        return metadata.get("odoo_reference") or None

    def _gocardless_get_database_uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid")

    def _get_tx_from_notification_data(self, provider_code, notification_data):
        """Override of `payment` to find the transaction of a GoCardless
        payment: by the payment's id, else by the reference in the payment's
        metadata (a debit whose answer was lost has no payment id yet).

        When the payment is this database's, ``notification_data['reference']``
        holds the transaction's reference after the call, even if no
        transaction is found.

        :param str provider_code: the code of the provider of the notification
        :param dict notification_data: ``payment_id`` (``PM…``), optionally
            ``reference`` (from the payment's metadata, None for a payment made
            elsewhere; fetched from GoCardless when the key is missing),
            ``payment`` (the payment, as the API's dict) and ``provider_id``
        :return: the transaction
        :raise ValidationError: when no transaction matches
        """
        tx = super()._get_tx_from_notification_data(provider_code, notification_data)
        if provider_code != "gocardless" or len(tx) == 1:
            return tx
        payment_id = notification_data.get("payment_id")
        domain = [("provider_code", "=", "gocardless")]
        if payment_id:
            tx = self.search(
                [*domain, ("provider_reference", "=", payment_id)], limit=1
            )
        if not tx:
            reference = notification_data.get("reference")
            if (
                "reference" not in notification_data
                and payment_id
                and notification_data.get("provider_id")
            ):
                # The event did not carry the payment's metadata: fetch them.
                provider = self.env["payment.provider"].browse(
                    notification_data["provider_id"]
                )
                payment = provider._gocardless_call("payments", "get", payment_id)
                notification_data["payment"] = payment.attributes
                reference = self._gocardless_get_reference_from_metadata(
                    payment.metadata
                )
                notification_data["reference"] = reference
            if reference:
                tx = self.search([*domain, ("reference", "=", reference)], limit=1)
        if not tx:
            raise ValidationError(
                self.env._(
                    "GoCardless: no transaction found matching the payment "
                    "%(payment)s.",
                    payment=payment_id,
                )
            )
        return tx

    def _process_notification_data(self, notification_data):
        """Override of `payment` to update the transaction from the payment's
        CURRENT status at GoCardless (events may arrive out of order): pending,
        done, in error (with the failure's cause and kind), or reversed when a
        debit already booked fails late or is charged back.

        :param dict notification_data: ``payment_id``, optionally ``payment``
            (the payment as the API's dict, when just fetched),
            ``gocardless_cache`` (the resources fetched for the webhook's batch:
            a payment is fetched once per batch), and the event's ``action``,
            ``cause`` and ``description``
        """
        super()._process_notification_data(notification_data)
        if self.provider_code != "gocardless":
            return
        payment_id = notification_data.get("payment_id") or self.provider_reference
        payment = notification_data.get("payment")
        cache = notification_data.get("gocardless_cache")
        if (not payment or payment.get("id") != payment_id) and cache is not None:
            payment = cache.get(("payments", payment_id))
        if not payment or payment.get("id") != payment_id:
            payment = self.provider_id._gocardless_call(
                "payments", "get", payment_id
            ).attributes
        if cache is not None:
            cache[("payments", payment_id)] = payment
        self._gocardless_check_payment(payment)
        if not self.provider_reference:
            self.provider_reference = payment["id"]
        status = payment.get("status")
        mapping = const.GOCARDLESS_PAYMENT_STATUS_MAPPING
        if status in mapping["pending"]:
            self._set_pending()
        elif status in mapping["done"]:
            self._set_done()
        elif status in mapping["error"] or status == (
            const.GOCARDLESS_CHARGED_BACK_STATUS
        ):
            action = notification_data.get("action")
            if action and action not in FAILURE_ACTIONS:
                # An older event: the failure's own event brings its cause.
                _logger.info(
                    "gocardless payment %s is %s: event %s of transaction %s ignored",
                    payment["id"],
                    status,
                    action,
                    self.reference,
                )
                return
            self._gocardless_handle_failure(
                status,
                notification_data.get("cause"),
                notification_data.get("description"),
            )
        else:
            _logger.warning(
                "gocardless payment %s of transaction %s has an unknown status %s",
                payment["id"],
                self.reference,
                status,
            )

    def _gocardless_check_payment(self, payment):
        """Refuse a payment that is not the debit of this transaction."""
        expected_amount = payment_utils.to_minor_currency_units(
            self.amount, self.currency_id
        )
        if (
            payment.get("amount") != expected_amount
            or payment.get("currency") != self.currency_id.name
            or (
                self.provider_reference and payment.get("id") != self.provider_reference
            )
        ):
            raise ValidationError(
                self.env._(
                    "GoCardless: the payment %(payment)s does not match the "
                    "transaction %(reference)s (amount, currency or id).",
                    payment=payment.get("id"),
                    reference=self.reference,
                )
            )

    def _gocardless_handle_failure(self, status, cause, description):
        """A payment failed, was cancelled or charged back: put the debit in
        error with its cause, or reverse it when it was already booked."""
        cause_label = cause or status
        if self.state == "done":
            if status == const.GOCARDLESS_CHARGED_BACK_STATUS:
                self._collection_reverse(
                    self.env._(
                        "GoCardless: the customer's bank charged back the debit "
                        "%(reference)s (%(cause)s).",
                        reference=self.reference,
                        cause=cause_label,
                    ),
                    "chargeback",
                )
            elif status == "failed":
                self._collection_reverse(
                    self.env._(
                        "GoCardless: the debit %(reference)s failed after it was "
                        "confirmed (%(cause)s).",
                        reference=self.reference,
                        cause=cause_label,
                    ),
                    "late_failure",
                )
            return
        if self.state not in ("draft", "pending", "authorized"):
            return
        self.write(
            {
                "collection_failure_code": cause_label,
                "collection_failure_kind": (
                    "soft" if cause in const.GOCARDLESS_SOFT_FAILURE_CAUSES else "hard"
                ),
            }
        )
        status_label = status.replace("_", " ")
        if description:
            message = self.env._(
                "GoCardless: the debit was not collected (%(status)s, %(cause)s): "
                "%(description)s",
                status=status_label,
                cause=cause_label,
                description=description,
            )
        else:
            message = self.env._(
                "GoCardless: the debit was not collected (%(status)s, %(cause)s).",
                status=status_label,
                cause=cause_label,
            )
        self._set_error(message)
