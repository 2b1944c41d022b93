# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Automatic collection through Odoo's Stripe provider, against a fake of the
Stripe API on 127.0.0.1 (tests/fake_stripe.py): the real SDK and the real requests
of `payment_stripe`, webhooks signed as Stripe signs them."""

import json
import logging
import time
from contextlib import contextmanager
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from .common import CollectionCommon
from .fake_stripe import StripeFakeMixin

WEBHOOK_URL = "/payment/stripe/webhook"
WEBHOOK_SECRET = "whsec_test_collection_0123456789"
TODAY = "2026-12-01 10:00:00"

# Expected errors are logged by these loggers.
CORE_STRIPE_PROVIDER = "odoo.addons.payment_stripe.models.payment_provider"
CORE_STRIPE_TX = "odoo.addons.payment_stripe.models.payment_transaction"
CORE_STRIPE_WEBHOOK = "odoo.addons.payment_stripe.controllers.main"
OUR_STRIPE_PROVIDER = (
    "odoo.addons.account_payment_collection.models.payment_provider_stripe"
)
OUR_STRIPE_WEBHOOK = "odoo.addons.account_payment_collection.controllers.stripe"
OUR_TX = "odoo.addons.account_payment_collection.models.payment_transaction"
OUR_MOVE = "odoo.addons.account_payment_collection.models.account_move"


class StripeCollectionCommon(StripeFakeMixin, CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sepa_method = cls.env.ref("payment.payment_method_sepa_direct_debit")
        cls.visa_method = cls.env.ref("payment.payment_method_visa")
        cls.stripe_provider = cls._prepare_provider(
            "stripe",
            company=cls.company,
            update_values={
                "stripe_secret_key": "sk_test_collection",
                "stripe_publishable_key": "pk_test_collection",
                "stripe_webhook_secret": WEBHOOK_SECRET,
                "payment_method_ids": [
                    Command.set((cls.card_method | cls.sepa_method).ids)
                ],
            },
        )
        (cls.sepa_method | cls.visa_method | cls.card_method).active = True
        cls.Registration = cls.env["collection.registration"]
        cls.Event = cls.env["collection.provider.event"]

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _start_registration(self, partner=None, method_code="card"):
        """Start a registration as the registration page does.

        :return: the registration and the URL of the hosted page
        """
        registration = self.Registration.sudo().create(
            {
                "partner_id": (partner or self.customer).id,
                "company_id": self.company.id,
                "provider_id": self.stripe_provider.id,
                "payment_method_code": method_code,
            }
        )
        url = self.stripe_provider._collection_start_registration(registration)
        registration.write({"state": "pending"})
        return registration, url

    def _register(self, partner=None, method_code="card"):
        """A customer who saved a card (or a SEPA mandate) at Stripe.

        :return: the token
        """
        registration, _url = self._start_registration(partner, method_code)
        self.stripe_fake.complete_session(registration.provider_reference)
        self.stripe_provider._collection_fetch_registration(registration)
        self.assertEqual(registration.state, "done")
        return registration.token_id

    def _post_event(self, event_type, obj, secret=WEBHOOK_SECRET, **kwargs):
        body, headers = self.stripe_fake.event(event_type, obj, secret, **kwargs)
        return self._post_raw(body, headers)

    def _post_raw(self, body, headers):
        response = self.url_open(WEBHOOK_URL, data=body, headers=headers)
        self.env.invalidate_all()
        return response

    @contextmanager
    def _capture_logs(self):
        """The messages logged in the block (at INFO and above)."""
        messages = []
        handler = logging.Handler(logging.INFO)
        handler.emit = lambda record: messages.append(record.getMessage())
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            yield messages
        finally:
            root.removeHandler(handler)

    def _events_of(self, event_type):
        return self.Event.sudo().search([("event_type", "=", event_type)])

    def _debit_due_invoices(self):
        with mute_logger(OUR_TX):
            self.env["account.move"]._cron_collection_send_due()
        self.env.invalidate_all()

    def _sent_intents(self):
        return self.stripe_fake.calls("POST", "/v1/payment_intents")


@tagged("post_install", "-at_install")
class TestStripeRegistration(StripeCollectionCommon, HttpCase):
    def test_registration_start_session(self):
        """The customer is sent to a Checkout Session in setup mode for the chosen
        method only, coming back to the confirmation page, for a Stripe customer
        made from the partner."""
        registration, url = self._start_registration(method_code="sepa_direct_debit")
        session = self.stripe_fake.sessions[registration.provider_reference]
        self.assertTrue(registration.provider_reference.startswith("cs_"))
        self.assertEqual(url, session["url"])
        self.assertEqual(session["mode"], "setup")
        self.assertEqual(session["allowed_payment_method_types"], ["sepa_debit"])
        self.assertEqual(session["currency"], self.company.currency_id.name.lower())
        self.assertEqual(
            session["success_url"],
            registration._collection_get_confirmation_url()
            + "&session_id={CHECKOUT_SESSION_ID}",
        )
        self.assertEqual(session["cancel_url"], registration._collection_get_link_url())
        self.assertEqual(
            session["metadata"], {"collection_registration_id": str(registration.id)}
        )
        self.assertEqual(
            session["setup_intent_data"]["metadata"],
            {"collection_registration_id": str(registration.id)},
        )
        customer = self.stripe_fake.customers[session["customer"]]
        self.assertEqual(customer["name"], "Boulangerie Martin")
        self.assertEqual(customer["email"], "compta@boulangerie.example.com")
        self.assertEqual(customer["address"]["city"], "Lyon")
        self.assertEqual(customer["metadata"]["odoo_partner_id"], str(self.customer.id))
        # Deterministic idempotency keys: the SDK's random ones are not used.
        [customer_call] = self.stripe_fake.calls("POST", "/v1/customers")
        [session_call] = self.stripe_fake.calls("POST", "/v1/checkout/sessions")
        self.assertEqual(
            customer_call.headers["Idempotency-Key"],
            registration._collection_get_idempotency_key("customer"),
        )
        self.assertEqual(
            session_call.headers["Idempotency-Key"],
            registration._collection_get_idempotency_key("session"),
        )
        self.assertNotIn("payment_method_types", session_call.params)

    def test_registration_start_twice_same_session(self):
        """Starting the same registration again (form sent twice, SDK retry after
        a lost answer) gives the same session: Stripe replays the first answer."""
        registration, url = self._start_registration()
        self.stripe_fake.fail_next(1, mode="drop", path="/v1/checkout/sessions")
        url_again = self.stripe_provider._collection_start_registration(registration)
        self.assertEqual(url_again, url)
        self.assertEqual(len(self.stripe_fake.sessions), 1)
        self.assertEqual(len(self.stripe_fake.customers), 1)

    def test_registration_start_refused(self):
        """A Stripe refusal is a clear, translated error, without the key."""
        registration = self.Registration.sudo().create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "provider_id": self.stripe_provider.id,
                "payment_method_code": "card",
            }
        )
        self.stripe_fake.fail_next(3, mode="500", after_processing=False)
        with (
            mute_logger(OUR_STRIPE_PROVIDER),
            self.assertRaisesRegex(ValidationError, "^Stripe: ") as caught,
        ):
            self.stripe_provider._collection_start_registration(registration)
        self.assertNotIn("sk_test_collection", str(caught.exception))
        self.assertFalse(registration.provider_reference)
        self.assertFalse(self.stripe_fake.sessions)

    def test_registration_method_codes(self):
        """Card and SEPA (in euros) are offered when their methods are active on
        Stripe."""
        self.assertEqual(self.company.currency_id.name, "USD")
        self.assertEqual(
            self.stripe_provider._collection_get_registration_method_codes(), ["card"]
        )
        euro_company = self.env["res.company"].create(
            {"name": "Boulangeries Réunies", "currency_id": self.env.ref("base.EUR").id}
        )
        euro_provider = self.stripe_provider.copy(
            {
                "company_id": euro_company.id,
                "state": "test",
                "stripe_secret_key": "sk_test_euro",
                "payment_method_ids": [
                    Command.set((self.card_method | self.sepa_method).ids)
                ],
            }
        )
        self.assertEqual(
            euro_provider._collection_get_registration_method_codes(),
            ["card", "sepa_direct_debit"],
        )
        euro_provider.write({"state": "disabled", "stripe_secret_key": False})
        self.assertEqual(euro_provider._collection_get_registration_method_codes(), [])
        self.stripe_provider.payment_method_ids = [Command.unlink(self.sepa_method.id)]
        self.assertEqual(
            self.stripe_provider._collection_get_registration_method_codes(), ["card"]
        )

    def test_registration_card_from_confirmation_page_then_webhook(self):
        """The customer saves a card on the hosted page and comes back to the
        confirmation page, which completes the registration; the webhook that
        follows changes nothing: one token."""
        registration, url = self._start_registration()
        page = self.url_open(url)
        self.assertIn("o_fake_stripe_save", page.text)
        confirmation = self.url_open(f"{url}/save")
        self.assertEqual(confirmation.status_code, 200)
        self.assertIn(
            f"/collection/register/confirm/{registration.id}", confirmation.url
        )
        self.env.invalidate_all()
        self.assertEqual(registration.state, "done")
        token = registration.token_id
        session = self.stripe_fake.sessions[registration.provider_reference]
        setup_intent = self.stripe_fake.setup_intents[session["setup_intent"]]
        self.assertEqual(token.provider_id, self.stripe_provider)
        self.assertEqual(token.partner_id, self.customer)
        self.assertEqual(token.provider_ref, session["customer"])
        self.assertTrue(token.provider_ref.startswith("cus_"))
        self.assertEqual(token.stripe_payment_method, setup_intent["payment_method"])
        self.assertFalse(token.stripe_mandate)
        self.assertEqual(token.payment_method_id, self.visa_method)
        self.assertEqual(token.payment_details, "4242")

        response = self._post_event("checkout.session.completed", dict(session))
        self.assertEqual(response.status_code, 200)
        tokens = self.env["payment.token"].search(
            [("partner_id", "=", self.customer.id), ("provider_id.code", "=", "stripe")]
        )
        self.assertEqual(tokens, token)
        self.assertEqual(len(self._events_of("checkout.session.completed")), 1)

    def test_registration_sepa_from_webhook_then_confirmation_page(self):
        """The webhook comes first and completes the registration with the
        mandate; the confirmation page then shows it done: one token."""
        registration, url = self._start_registration(method_code="sepa_direct_debit")
        session = self.stripe_fake.complete_session(registration.provider_reference)
        response = self._post_event(
            "checkout.session.completed",
            dict(session, setup_intent=session["setup_intent"]["id"]),
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(registration.state, "done")
        token = registration.token_id
        setup_intent = session["setup_intent"]
        self.assertEqual(token.provider_ref, session["customer"])
        self.assertEqual(
            token.stripe_payment_method, setup_intent["payment_method"]["id"]
        )
        self.assertTrue(setup_intent["mandate"].startswith("mandate_"))
        self.assertEqual(token.stripe_mandate, setup_intent["mandate"])
        self.assertEqual(token.collection_mandate_status, "active")
        self.assertEqual(token.payment_method_id, self.sepa_method)
        self.assertEqual(token.payment_details, "3000")

        confirmation = self.url_open(
            registration._collection_get_confirmation_url()
            + f"&session_id={registration.provider_reference}"
        )
        self.assertEqual(confirmation.status_code, 200)
        self.env.invalidate_all()
        tokens = self.env["payment.token"].search(
            [("partner_id", "=", self.customer.id), ("provider_id.code", "=", "stripe")]
        )
        self.assertEqual(tokens, token)
        self.assertEqual(self.customer.collection_token_id, token)

    def test_registration_open_session_stays_pending(self):
        """The customer is still on the page: nothing changes."""
        registration, _url = self._start_registration()
        self.stripe_provider._collection_fetch_registration(registration)
        self.assertEqual(registration.state, "pending")
        self.assertFalse(registration.token_id)

    def test_registration_expired(self):
        """An expired session fails the registration (from the webhook or the
        confirmation page's fetch), once."""
        registration, _url = self._start_registration()
        session = self.stripe_fake.expire_session(registration.provider_reference)
        self._post_event("checkout.session.expired", session)
        self.assertEqual(registration.state, "failed")
        self.assertFalse(registration.token_id)
        other, _url = self._start_registration(partner=self.other_customer)
        self.stripe_fake.expire_session(other.provider_reference)
        self.stripe_provider._collection_fetch_registration(other)
        self.assertEqual(other.state, "failed")

    def test_registration_setup_failed(self):
        """A setup intent that failed fails its registration (found by the
        metadata Checkout copied onto it)."""
        registration, _url = self._start_registration(method_code="sepa_direct_debit")
        setup_intent = {
            "id": "seti_failed_1",
            "object": "setup_intent",
            "status": "requires_payment_method",
            "metadata": {"collection_registration_id": str(registration.id)},
            "last_setup_error": {"message": "The bank account was refused."},
        }
        self._post_event("setup_intent.setup_failed", setup_intent)
        self.assertEqual(registration.state, "failed")
        self.assertIn("The bank account was refused.", registration.state_message)

    @freeze_time(TODAY)
    def test_mandate_inactive_archives_token(self):
        """A SEPA mandate that becomes inactive at Stripe archives its token and
        stops the customer's automatic debits not sent yet."""
        token = self._register(method_code="sepa_direct_debit")
        self.assertEqual(self.customer.collection_token_id, token)
        invoice = self._make_invoice(self.customer, due_date="2026-12-20")
        self.assertEqual(invoice.collection_state, "scheduled")
        mandate = dict(
            self.stripe_fake.mandates[token.stripe_mandate], status="inactive"
        )
        response = self._post_event("mandate.updated", mandate)
        self.assertEqual(response.status_code, 200)
        self.assertFalse(token.active)
        self.assertEqual(token.collection_mandate_status, "inactive")
        self.assertEqual(invoice.collection_state, "stopped")
        self.assertFalse(self.customer._collection_get_debit_token())

    def test_payment_method_detached_archives_token(self):
        token = self._register()
        detached = self.stripe_fake.detach_payment_method(token.stripe_payment_method)
        self._post_event("payment_method.detached", detached)
        self.assertFalse(token.active)

    def test_replayed_event_processed_once(self):
        """A replay of an event (same id) is acknowledged and does nothing: the
        second delivery does not even ask Stripe again."""
        registration, _url = self._start_registration()
        session = dict(self.stripe_fake.sessions[registration.provider_reference])
        body, headers = self.stripe_fake.event(
            "checkout.session.completed", session, WEBHOOK_SECRET
        )
        retrieve = f"/v1/checkout/sessions/{registration.provider_reference}"
        self.assertEqual(self._post_raw(body, headers).status_code, 200)
        self.assertEqual(len(self.stripe_fake.calls("GET", retrieve)), 1)
        self.assertEqual(self._post_raw(body, headers).status_code, 200)
        self.assertEqual(len(self.stripe_fake.calls("GET", retrieve)), 1)
        self.assertEqual(len(self._events_of("checkout.session.completed")), 1)

    def test_webhook_creation_subscribes_collection_events(self):
        """The webhook Odoo creates at Stripe also sends the events of automatic
        collection."""
        self.stripe_provider.stripe_webhook_secret = False
        self.stripe_provider.action_stripe_create_webhook()
        [endpoint] = self.stripe_fake.webhook_endpoints.values()
        self.assertIn("payment_intent.succeeded", endpoint["enabled_events"])
        self.assertIn("checkout.session.completed", endpoint["enabled_events"])
        self.assertIn("charge.dispute.created", endpoint["enabled_events"])
        self.assertEqual(self.stripe_provider.stripe_webhook_secret, endpoint["secret"])


@tagged("post_install", "-at_install")
class TestStripeDebit(StripeCollectionCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe_provider.journal_id = cls.company_data["default_journal_bank"]

    def _due_invoice(self, amount=100.0):
        invoice = self._make_invoice(
            self.customer, amount=amount, due_date="2026-12-01"
        )
        self.assertEqual(invoice.collection_state, "scheduled")
        return invoice

    @freeze_time(TODAY)
    def test_card_debit_done_and_paid_once(self):
        """The due-date job debits the card off-session through Odoo's own
        PaymentIntent: done, and the invoice paid once."""
        token = self._register()
        invoice = self._due_invoice(120.0)
        with self._capture_logs() as messages:
            self._debit_due_invoices()
        # Odoo's log of Stripe's answer has neither the intent's client secret nor
        # the secret key.
        logged = "\n".join(messages)
        self.assertIn("payment request response", logged)
        self.assertNotIn("pi_secret", logged)
        self.assertNotIn("sk_test_collection", logged)
        tx = invoice.collection_transaction_id
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.token_id, token)
        [call] = self._sent_intents()
        self.assertEqual(call.params["amount"], "12000")
        self.assertEqual(call.params["customer"], token.provider_ref)
        self.assertEqual(call.params["payment_method"], token.stripe_payment_method)
        self.assertEqual(call.params["off_session"], "True")
        self.assertEqual(call.params["confirm"], "True")
        self.assertEqual(call.params["description"], tx.reference)
        self.assertTrue(call.headers.get("Idempotency-Key"))
        [intent] = self.stripe_fake.payment_intents.values()
        self.assertEqual(tx.provider_reference, intent["id"])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(tx.payment_id), 1)
        self.assertEqual(tx.payment_id.amount, 120.0)
        # Run again: nothing more is debited.
        self._debit_due_invoices()
        self.assertEqual(len(self._sent_intents()), 1)

    def _assert_refused(self, invoice, code, kind):
        tx = invoice.collection_transaction_id
        self.assertEqual(tx.state, "error")
        self.assertEqual(tx.collection_failure_code, code)
        self.assertEqual(tx.collection_failure_kind, kind)
        self.assertFalse(tx.payment_id)
        self.assertEqual(invoice.payment_state, "not_paid")
        return tx

    @freeze_time(TODAY)
    def test_card_insufficient_funds_is_soft(self):
        self._register()
        invoice = self._due_invoice()
        self.stripe_fake.decline_next("card_declined", "insufficient_funds")
        self._debit_due_invoices()
        tx = self._assert_refused(invoice, "insufficient_funds", "soft")
        [intent] = self.stripe_fake.payment_intents.values()
        self.assertEqual(tx.provider_reference, intent["id"])
        self.assertIn("insufficient funds", tx.state_message)

    @freeze_time(TODAY)
    def test_card_authentication_required(self):
        self._register()
        invoice = self._due_invoice()
        self.stripe_fake.decline_next(
            "authentication_required", "authentication_required"
        )
        self._debit_due_invoices()
        self._assert_refused(
            invoice, "authentication_required", "authentication_required"
        )

    @freeze_time(TODAY)
    def test_card_expired_is_hard(self):
        self._register()
        invoice = self._due_invoice()
        self.stripe_fake.decline_next("expired_card")
        self._debit_due_invoices()
        self._assert_refused(invoice, "expired_card", "hard")

    @freeze_time(TODAY)
    def test_detached_payment_method_is_hard(self):
        """Stripe refuses the request itself, without a PaymentIntent: hard."""
        token = self._register()
        invoice = self._due_invoice()
        self.stripe_fake.detach_payment_method(token.stripe_payment_method)
        self._debit_due_invoices()
        self._assert_refused(invoice, "payment_method_unexpected_state", "hard")
        self.assertFalse(self.stripe_fake.payment_intents)

    @freeze_time(TODAY)
    def test_sepa_debit_pending_then_succeeded(self):
        """A SEPA debit is pending until Stripe's event, then done and paid."""
        self._register(method_code="sepa_direct_debit")
        invoice = self._due_invoice()
        self._debit_due_invoices()
        tx = invoice.collection_transaction_id
        self.assertEqual(tx.state, "pending")
        self.assertEqual(invoice.payment_state, "not_paid")
        [call] = self._sent_intents()
        self.assertEqual(call.params["mandate"], tx.token_id.stripe_mandate)
        intent = self.stripe_fake.succeed_payment_intent(tx.provider_reference)
        self.assertEqual(
            self._post_event("payment_intent.succeeded", intent).status_code, 200
        )
        self.assertEqual(tx.state, "done")
        tx._post_process()  # what the post-processing job triggered does
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(tx.payment_id), 1)

    @freeze_time(TODAY)
    def test_sepa_debit_pending_then_failed(self):
        """The bank refuses a SEPA debit days later: error, classified."""
        self._register(method_code="sepa_direct_debit")
        invoice = self._due_invoice()
        self._debit_due_invoices()
        tx = invoice.collection_transaction_id
        self.assertEqual(tx.state, "pending")
        intent = self.stripe_fake.fail_payment_intent(
            tx.provider_reference, code="insufficient_funds"
        )
        self._post_event("payment_intent.payment_failed", intent)
        self.assertEqual(tx.state, "error")
        self.assertEqual(tx.collection_failure_code, "insufficient_funds")
        self.assertEqual(tx.collection_failure_kind, "soft")
        self.assertFalse(tx.payment_id)

    @freeze_time(TODAY)
    def test_dispute_reverses_debit(self):
        """A chargeback of a booked debit reverses its payment: the invoice is
        open again for its full amount."""
        self._register()
        invoice = self._due_invoice(80.0)
        self._debit_due_invoices()
        tx = invoice.collection_transaction_id
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        dispute = self.stripe_fake.create_dispute(tx.provider_reference)
        self.assertEqual(
            self._post_event("charge.dispute.created", dispute).status_code, 200
        )
        self.assertTrue(tx.collection_reversed)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 80.0)
        # The same dispute again (Stripe retries): reversed once.
        self._post_event("charge.dispute.created", dispute)
        self.assertEqual(invoice.amount_residual, 80.0)

    @freeze_time(TODAY)
    def test_dispute_inquiry_does_not_reverse(self):
        self._register()
        invoice = self._due_invoice()
        self._debit_due_invoices()
        tx = invoice.collection_transaction_id
        dispute = self.stripe_fake.create_dispute(
            tx.provider_reference, status="warning_needs_response"
        )
        self._post_event("charge.dispute.created", dispute)
        self.assertFalse(tx.collection_reversed)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def _assert_unknown_then_resent(self, mode):
        self._register()
        invoice = self._due_invoice()
        self.stripe_fake.fail_next(1, mode=mode, path="/v1/payment_intents")
        with mute_logger(CORE_STRIPE_PROVIDER, OUR_STRIPE_PROVIDER):
            self._debit_due_invoices()
        tx = invoice.collection_transaction_id
        # Stripe debited, but Odoo does not know: neither failed nor paid.
        self.assertEqual(tx.state, "draft")
        self.assertFalse(tx.collection_failure_kind)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(len(self.stripe_fake.payment_intents), 1)
        # The next run sends the same debit again: Stripe answers with the
        # PaymentIntent it created; nothing is debited twice.
        self._debit_due_invoices()
        first, second = self._sent_intents()
        self.assertEqual(
            first.headers["Idempotency-Key"], second.headers["Idempotency-Key"]
        )
        self.assertEqual(len(self.stripe_fake.payment_intents), 1)
        self.assertEqual(invoice.collection_transaction_id, tx)
        self.assertEqual(tx.state, "done")
        self.assertEqual(
            tx.provider_reference, next(iter(self.stripe_fake.payment_intents))
        )
        self.assertEqual(len(tx.payment_id), 1)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    @freeze_time(TODAY)
    def test_server_error_then_resent(self):
        self._assert_unknown_then_resent("500")

    @freeze_time(TODAY)
    def test_lost_connection_then_resent(self):
        self._assert_unknown_then_resent("drop")


@tagged("post_install", "-at_install")
class TestStripeWebhookSecurity(StripeCollectionCommon, HttpCase):
    """Every event is verified before anything is read: 403 and nothing written
    without a valid signature, for the add-on's events and Odoo's."""

    def setUp(self):
        super().setUp()
        self.registration, _url = self._start_registration()
        session = self.stripe_fake.complete_session(
            self.registration.provider_reference
        )
        self.session = dict(session, setup_intent=session["setup_intent"]["id"])
        self.tx = self._create_transaction(
            "redirect",
            provider_id=self.stripe_provider.id,
            payment_method_id=self.card_method.id,
            reference="COLLECTION-SECURITY-1",
            state="pending",
        )
        self.intent = {
            "id": "pi_security_1",
            "object": "payment_intent",
            "description": self.tx.reference,
            "status": "succeeded",
            "amount": 111100,
            "currency": "eur",
            "payment_method": "pm_security_1",
        }

    def _assert_nothing_done(self):
        self.env.invalidate_all()
        self.assertEqual(self.registration.state, "pending")
        self.assertFalse(self.registration.token_id)
        self.assertEqual(self.tx.state, "pending")
        self.assertFalse(self.Event.sudo().search([]))
        self.assertFalse(self.stripe_fake.calls("GET", r"/v1/checkout/sessions/.*"))

    def _assert_forbidden(self, body, headers):
        with mute_logger(OUR_STRIPE_WEBHOOK, "werkzeug"):
            response = self._post_raw(body, headers)
        self.assertEqual(response.status_code, 403)

    def _events(self, secret=WEBHOOK_SECRET, **kwargs):
        return [
            self.stripe_fake.event(
                "checkout.session.completed", self.session, secret, **kwargs
            ),
            self.stripe_fake.event(
                "payment_intent.succeeded", self.intent, secret, **kwargs
            ),
        ]

    def test_wrong_secret(self):
        for body, headers in self._events(secret="whsec_someone_else"):
            self._assert_forbidden(body, headers)
        self._assert_nothing_done()

    def test_missing_signature(self):
        for body, headers in self._events():
            del headers["Stripe-Signature"]
            self._assert_forbidden(body, headers)
        self._assert_nothing_done()

    def test_altered_body(self):
        for body, headers in self._events():
            event = json.loads(body)
            event["data"]["object"]["id"] = "cs_forged"
            self._assert_forbidden(json.dumps(event), headers)
        self._assert_nothing_done()

    def test_outdated_signature(self):
        for body, headers in self._events(timestamp=int(time.time()) - 3600):
            self._assert_forbidden(body, headers)
        self._assert_nothing_done()

    def test_no_secret_configured(self):
        """Without a webhook secret, events are refused: never fail open (Odoo's
        own check lets them through)."""
        self.stripe_provider.stripe_webhook_secret = False
        for body, headers in self._events():
            self._assert_forbidden(body, headers)
        self._assert_nothing_done()

    def test_valid_signatures_processed(self):
        """The positive control: the same events, well signed, are processed."""
        for body, headers in self._events():
            with mute_logger(CORE_STRIPE_TX):
                self.assertEqual(self._post_raw(body, headers).status_code, 200)
        self.assertEqual(self.registration.state, "done")
        self.assertEqual(self.tx.state, "done")
        self.assertEqual(len(self.Event.sudo().search([])), 2)

    def test_replayed_core_event_not_processed_again(self):
        """A replayed event of `payment_stripe` is acknowledged without reaching
        it again."""
        body, headers = self._events()[1]
        Transaction = self.registry["payment.transaction"]
        original = Transaction._handle_notification_data
        with patch.object(
            Transaction,
            "_handle_notification_data",
            autospec=True,
            side_effect=original,
        ) as handle:
            self.assertEqual(self._post_raw(body, headers).status_code, 200)
            self.assertEqual(self._post_raw(body, headers).status_code, 200)
        self.assertEqual(handle.call_count, 1)
        self.assertEqual(self.tx.state, "done")
        self.assertEqual(len(self._events_of("payment_intent.succeeded")), 1)
