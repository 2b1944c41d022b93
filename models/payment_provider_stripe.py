# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import operator

import requests
import stripe

from odoo import models
from odoo.exceptions import ValidationError

from odoo.addons.payment_stripe import const as stripe_const
from odoo.addons.payment_stripe import utils as stripe_utils

from ..const import (
    STRIPE_CHECKOUT_LOCALES,
    STRIPE_COLLECTION_EVENTS,
    STRIPE_INQUIRY_DISPUTE_STATUSES,
    STRIPE_MAX_NETWORK_RETRIES,
    STRIPE_REGISTRATION_METHOD_TYPES,
    STRIPE_TIMEOUT,
)
from ..utils import CollectionUnknownOutcome

_logger = logging.getLogger(__name__)


class StripeDebitRequest:
    """The mark, in a context, of the request `payment_stripe` sends to Stripe for
    an automatic debit (`_stripe_make_request`): a debit whose request got no
    answer is not failed, and a refusal is classified before the transaction is
    set in error. Being a Python object, no context sent by a client (JSON or XML)
    can carry it."""

    __slots__ = ("transaction",)

    def __init__(self, transaction):
        self.transaction = transaction

    def __repr__(self):
        return f"<Stripe debit {self.transaction.reference}>"


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_stripe_create_webhook(self):
        """Override of `payment_stripe` to subscribe the webhook it creates to the
        events of automatic collection too."""
        return super(
            PaymentProvider, self.with_context(collection_stripe_webhook=True)
        ).action_stripe_create_webhook()

    # ------------------------------------------------------------------
    # Requests
    # ------------------------------------------------------------------

    def _stripe_client(self):
        """The client of the Stripe SDK for this provider's account.

        :rtype: stripe.StripeClient
        """
        self.ensure_one()
        return stripe.StripeClient(
            stripe_utils.get_secret_key(self.sudo()) or "",
            max_network_retries=STRIPE_MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=STRIPE_TIMEOUT),
        )

    def _stripe_call(
        self, resource, operation, *args, params=None, idempotency_key=None
    ):
        """Make one call of the Stripe SDK: the only place this add-on calls it.

        :param str resource: the SDK's service under ``StripeClient.v1``, e.g.
            ``customers`` or ``checkout.sessions``
        :param str operation: its method, e.g. ``create`` or ``retrieve``
        :param args: its positional arguments (the id of the object)
        :param dict params: the parameters of the call
        :param str idempotency_key: the key of a POST: the same business call
            always has the same key, so that Stripe never does it twice
        :return: the Stripe object answered
        :rtype: stripe.StripeObject
        :raise ValidationError: when Stripe refused or could not be reached
        """
        self.ensure_one()
        options = {}
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        if extra_headers := self._get_stripe_extra_request_headers():
            options["headers"] = extra_headers
        try:
            service = operator.attrgetter(resource)(self._stripe_client().v1)
            return getattr(service, operation)(
                *args, params=params or {}, options=options
            )
        except stripe.StripeError as error:
            _logger.warning(
                "stripe call %s.%s of provider %s failed: %s (code %s, request %s)",
                resource,
                operation,
                self.id,
                type(error).__name__,
                error.code,
                error.request_id,
            )
            if isinstance(error, stripe.APIConnectionError):
                message = self.env._(
                    "Stripe could not be reached. Please try again in a few minutes."
                )
            elif isinstance(error, stripe.AuthenticationError):
                message = self.env._(
                    "Stripe refused the secret key of the provider %(provider)s.",
                    provider=self.name,
                )
            else:
                message = error.user_message or self.env._(
                    "Stripe refused the request."
                )
            raise ValidationError(
                self.env._("Stripe: %(message)s", message=message)
            ) from error

    def _stripe_make_request(
        self, endpoint, payload=None, method="POST", offline=False, idempotency_key=None
    ):
        """Override of `payment_stripe` to tell an automatic debit whose request
        got no answer (no connection, time-out, server error) from a refused one:
        the first raises ``CollectionUnknownOutcome`` (the debit is sent again as
        it is, with the same idempotency key, and Stripe answers with the first
        outcome), the second has its failure classified before `payment_stripe`
        sets the transaction in error. Other requests are left to
        `payment_stripe`."""
        if (
            endpoint == "webhook_endpoints"
            and method == "POST"
            and self.env.context.get("collection_stripe_webhook")
        ):
            payload = dict(payload or {})
            payload["enabled_events[]"] = [
                *payload.get("enabled_events[]", stripe_const.HANDLED_WEBHOOK_EVENTS),
                *STRIPE_COLLECTION_EVENTS,
            ]
        debit = self.env.context.get("collection_stripe_debit")
        if not isinstance(debit, StripeDebitRequest):
            return super()._stripe_make_request(
                endpoint,
                payload=payload,
                method=method,
                offline=offline,
                idempotency_key=idempotency_key,
            )
        reference = debit.transaction.reference
        try:
            response = super()._stripe_make_request(
                endpoint,
                payload=payload,
                method=method,
                offline=offline,
                idempotency_key=idempotency_key,
            )
        except requests.exceptions.Timeout as error:
            _logger.warning("stripe debit %s: no answer in time", reference)
            raise CollectionUnknownOutcome(
                self.env._("Stripe did not answer in time.")
            ) from error
        except requests.exceptions.JSONDecodeError as error:
            _logger.warning("stripe debit %s: answer is not Stripe's", reference)
            raise CollectionUnknownOutcome(
                self.env._("Stripe's answer could not be read.")
            ) from error
        except ValidationError as error:
            # `payment_stripe` turns a lost connection into a ValidationError.
            if not isinstance(error.__context__, requests.exceptions.ConnectionError):
                raise
            _logger.warning("stripe debit %s: connection lost", reference)
            raise CollectionUnknownOutcome(
                self.env._("The connection to Stripe was lost.")
            ) from error
        error = response.get("error") if isinstance(response, dict) else None
        if error and error.get("type") == "api_error":
            _logger.warning("stripe debit %s: server error at stripe", reference)
            raise CollectionUnknownOutcome(
                self.env._("Stripe answered with a server error.")
            )
        if error:
            debit.transaction._stripe_collection_set_failure(error)
        # An off-session debit has no use for the intent's client secret: keep it
        # out of `payment_stripe`'s logs of the answer.
        intent = error.get("payment_intent") if error else response
        if isinstance(intent, dict):
            intent.pop("client_secret", None)
        return response

    # ------------------------------------------------------------------
    # Registration of a card or SEPA mandate (Checkout in setup mode)
    # ------------------------------------------------------------------

    def _collection_get_registration_method_codes(self):
        """Override of the add-on's generic hook: the cards and SEPA debits whose
        Odoo payment method is active on this Stripe provider (SEPA in euros
        only)."""
        codes = super()._collection_get_registration_method_codes()
        if self.code != "stripe":
            return codes
        self.ensure_one()
        if not stripe_utils.get_secret_key(self.sudo()):
            return codes
        active_codes = set(self.payment_method_ids.filtered("active").mapped("code"))
        if self.company_id.currency_id.name != "EUR":
            active_codes.discard("sepa_direct_debit")
        return [
            code for code in STRIPE_REGISTRATION_METHOD_TYPES if code in active_codes
        ]

    def _collection_start_registration(self, registration):
        """Override of the add-on's generic hook: create a Stripe customer for the
        registering partner and a Checkout Session in setup mode for the chosen
        payment method.

        :return: the URL of the Checkout page
        :rtype: str
        """
        if self.code != "stripe":
            return super()._collection_start_registration(registration)
        self.ensure_one()
        customer = self._stripe_call(
            "customers",
            "create",
            params=self._stripe_prepare_collection_customer_params(registration),
            idempotency_key=registration._collection_get_idempotency_key("customer"),
        )
        session = self._stripe_call(
            "checkout.sessions",
            "create",
            params=self._stripe_prepare_collection_session_params(
                registration, customer.id
            ),
            idempotency_key=registration._collection_get_idempotency_key("session"),
        )
        registration.sudo().provider_reference = session.id
        _logger.info(
            "registration %s: stripe checkout session %s created",
            registration.id,
            session.id,
        )
        return session.url

    def _stripe_prepare_collection_customer_params(self, registration):
        """The parameters of the Stripe customer of a registration.

        :rtype: dict
        """
        partner = registration.partner_id
        address = {
            "line1": partner.street or None,
            "line2": partner.street2 or None,
            "city": partner.city or None,
            "postal_code": partner.zip or None,
            "state": partner.state_id.name or None,
            "country": partner.country_id.code or None,
        }
        params = {
            "name": partner.name,
            "email": partner.email or None,
            "phone": partner.phone and partner.phone[:20] or None,
            "description": f"Odoo Partner: {partner.name} (id: {partner.id})",
            "metadata": {
                "odoo_partner_id": partner.id,
                "collection_registration_id": registration.id,
            },
        }
        if any(address.values()):
            params["address"] = address
        if locale := self._stripe_get_collection_locale(partner):
            params["preferred_locales"] = [locale]
        return params

    def _stripe_prepare_collection_session_params(self, registration, customer_id):
        """The parameters of the Checkout Session of a registration: setup mode,
        only the chosen payment method (`allowed_payment_method_types`; the API
        version of the SDK no longer accepts `payment_method_types`).

        :rtype: dict
        """
        confirmation_url = registration._collection_get_confirmation_url()
        separator = "&" if "?" in confirmation_url else "?"
        metadata = {"collection_registration_id": registration.id}
        return {
            "mode": "setup",
            "customer": customer_id,
            "currency": registration.company_id.currency_id.name.lower(),
            "allowed_payment_method_types": [
                STRIPE_REGISTRATION_METHOD_TYPES[registration.payment_method_code]
            ],
            "success_url": (
                f"{confirmation_url}{separator}session_id={{CHECKOUT_SESSION_ID}}"
            ),
            "cancel_url": registration._collection_get_link_url(),
            "client_reference_id": str(registration.id),
            "locale": self._stripe_get_collection_locale(registration.partner_id)
            or "auto",
            "metadata": metadata,
            "setup_intent_data": {
                "description": self.env._(
                    "Automatic payment of the invoices of %(company)s",
                    company=registration.company_id.name,
                ),
                "metadata": metadata,
            },
        }

    def _stripe_get_collection_locale(self, partner):
        """The language of Stripe's pages for ``partner``, if Stripe has it."""
        language = (partner.lang or "").split("_")[0]
        return language if language in STRIPE_CHECKOUT_LOCALES else None

    def _collection_fetch_registration(self, registration):
        """Override of the add-on's generic hook: read the registration's
        Checkout Session at Stripe and complete the registration (once a setup
        intent succeeded) or fail it (the session expired); an open session stays
        pending."""
        if self.code != "stripe":
            return super()._collection_fetch_registration(registration)
        self.ensure_one()
        if registration.state == "done" or not registration.provider_reference:
            return
        session = self._stripe_call(
            "checkout.sessions",
            "retrieve",
            registration.provider_reference,
            params={"expand": ["setup_intent.payment_method", "setup_intent.mandate"]},
        )
        setup_intent = getattr(session, "setup_intent", None)
        if session.status == "complete" and setup_intent:
            if setup_intent.status == "succeeded":
                registration._collection_complete(
                    self._stripe_prepare_collection_token_values(session)
                )
            elif setup_intent.status in ("canceled", "requires_payment_method"):
                error = getattr(setup_intent, "last_setup_error", None)
                registration._collection_fail(
                    self._stripe_get_setup_error(getattr(error, "message", None))
                )
        elif session.status == "expired":
            registration._collection_fail(
                self.env._(
                    "The Stripe page expired before the card or mandate was saved."
                )
            )

    def _stripe_prepare_collection_token_values(self, session):
        """The values of the `payment.token` of a completed Checkout Session whose
        setup intent (with its payment method and mandate) is expanded.

        :rtype: dict
        """
        setup_intent = session.setup_intent
        payment_method = setup_intent.payment_method
        mandate = setup_intent.mandate
        customer = session.customer
        method_type = payment_method.type
        details = getattr(payment_method, method_type, None)
        Method = self.env["payment.method"]
        if method_type == "card":
            method = Method._get_from_code(
                details.brand, mapping=stripe_const.PAYMENT_METHODS_MAPPING
            ) or Method._get_from_code("card")
        else:
            method = Method._get_from_code(
                method_type, mapping=stripe_const.PAYMENT_METHODS_MAPPING
            )
        values = {
            "provider_ref": customer if isinstance(customer, str) else customer.id,
            "stripe_payment_method": payment_method.id,
            "stripe_mandate": (
                (mandate if isinstance(mandate, str) else mandate.id)
                if mandate
                else False
            ),
            "payment_details": getattr(details, "last4", None) or False,
            "payment_method_id": method.id,
        }
        if mandate and not isinstance(mandate, str):
            values["collection_mandate_status"] = mandate.status
        return values

    def _stripe_get_setup_error(self, message=None):
        """The reason of a failed registration, with Stripe's ``message``."""
        if message:
            return self.env._(
                "Stripe could not save the card or mandate: %(message)s",
                message=message,
            )
        return self.env._("Stripe could not save the card or mandate.")

    # ------------------------------------------------------------------
    # Webhook events of automatic collection
    # ------------------------------------------------------------------

    def _stripe_collection_handle_event(self, event_type, stripe_object):
        """Process a verified webhook event of automatic collection (one of
        ``STRIPE_COLLECTION_EVENTS``), already claimed as new.

        :param str event_type: the event's type
        :param dict stripe_object: the event's ``data.object``
        """
        self.ensure_one()
        if self.env.company != self.company_id:
            # Book and tell in the provider's company, not the webhook user's.
            return self.with_company(self.company_id)._stripe_collection_handle_event(
                event_type, stripe_object
            )
        if event_type in ("checkout.session.completed", "checkout.session.expired"):
            registration = self.env["collection.registration"]._collection_find(
                self, stripe_object.get("id")
            )
            if not registration:
                _logger.info(
                    "stripe event %s for unknown session %s ignored",
                    event_type,
                    stripe_object.get("id"),
                )
            elif event_type == "checkout.session.completed":
                self._collection_fetch_registration(registration)
            else:
                registration._collection_fail(
                    self.env._(
                        "The Stripe page expired before the card or mandate was saved."
                    )
                )
        elif event_type == "setup_intent.setup_failed":
            registration = self._stripe_get_collection_registration(stripe_object)
            if registration:
                error = stripe_object.get("last_setup_error") or {}
                registration._collection_fail(
                    self._stripe_get_setup_error(error.get("message"))
                )
        elif event_type == "charge.dispute.created":
            self._stripe_collection_handle_dispute(stripe_object)
        elif event_type == "mandate.updated":
            tokens = self._stripe_collection_find_tokens(
                "stripe_mandate", stripe_object.get("id")
            )
            status = stripe_object.get("status")
            tokens.write({"collection_mandate_status": status})
            if status == "inactive":
                tokens._collection_deactivate(
                    self.env._("the SEPA mandate is no longer active at Stripe.")
                )
        elif event_type == "payment_method.detached":
            tokens = self._stripe_collection_find_tokens(
                "stripe_payment_method", stripe_object.get("id")
            )
            tokens._collection_deactivate(
                self.env._("the card or bank account was removed from Stripe.")
            )

    def _stripe_get_collection_registration(self, setup_intent):
        """The registration of this provider a setup intent was made for (its
        metadata), sudo, or empty."""
        metadata = setup_intent.get("metadata") or {}
        registration_id = str(metadata.get("collection_registration_id") or "")
        if not registration_id.isdigit():
            return self.env["collection.registration"]
        registration = (
            self.env["collection.registration"]
            .sudo()
            .browse(int(registration_id))
            .exists()
        )
        return registration.filtered(lambda r: r.provider_id == self)

    def _stripe_collection_find_tokens(self, field_name, value):
        """The tokens of this provider with that Stripe mandate or payment
        method, sudo (archived ones too, for their mandate status)."""
        if not value:
            return self.env["payment.token"].sudo()
        return (
            self.env["payment.token"]
            .sudo()
            .with_context(active_test=False)
            .search([("provider_id", "=", self.id), (field_name, "=", value)])
        )

    def _stripe_collection_handle_dispute(self, dispute):
        """A customer disputed a payment with their bank: reverse the automatic
        debit it charged back (not mere inquiries: no funds withdrawn)."""
        if dispute.get("status") in STRIPE_INQUIRY_DISPUTE_STATUSES:
            _logger.info("stripe dispute %s is an inquiry: ignored", dispute.get("id"))
            return
        payment_intent = dispute.get("payment_intent")
        if isinstance(payment_intent, dict):
            payment_intent = payment_intent.get("id")
        if not payment_intent and dispute.get("charge"):
            payment_intent = self._stripe_call(
                "charges", "retrieve", dispute["charge"]
            ).payment_intent
        txs = (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("provider_id", "=", self.id),
                    ("provider_reference", "=", payment_intent or False),
                    ("operation", "=", "offline"),
                    ("collection_idempotency_key", "!=", False),
                ],
                limit=1,
            )
        )
        if not txs:
            _logger.info(
                "stripe dispute %s is not about an automatic debit: ignored",
                dispute.get("id"),
            )
            return
        txs._stripe_collection_process_dispute(dispute)
