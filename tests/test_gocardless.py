# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""GoCardless: provider, registration, debits and webhooks, with the real
``gocardless_pro`` SDK against the fake of the API (``fake_gocardless``) and
webhooks signed exactly as GoCardless signs them."""

import json
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from ..controllers.gocardless import GoCardlessController
from ..utils import CollectionUnknownOutcome
from .common import CollectionCommon
from .fake_gocardless import (
    ACCESS_TOKEN,
    CREDITOR_NAME,
    WEBHOOK_SECRET,
    FakeGoCardlessMixin,
    sign,
)

CONTROLLER_LOGGER = "odoo.addons.account_payment_collection.controllers.gocardless"
PROVIDER_LOGGER = "odoo.addons.account_payment_collection.models.payment_provider"
TRANSACTION_LOGGERS = (
    "odoo.addons.account_payment_collection.models.payment_transaction",
    "odoo.addons.payment.models.payment_transaction",
)


class GoCardlessCommon(FakeGoCardlessMixin, CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gocardless = cls._prepare_provider(
            "gocardless",
            company=cls.company,
            update_values={
                "gocardless_access_token": ACCESS_TOKEN,
                "gocardless_webhook_secret": WEBHOOK_SECRET,
            },
        )
        cls.sepa_method = cls.env.ref("payment.payment_method_sepa_direct_debit")
        cls.customer.country_id = cls.env.ref("base.fr")

    def _create_mandate_token(self, partner=None, status="active"):
        """A mandate at the fake and its token in Odoo, as a registration
        leaves them."""
        mandate = self.gocardless_fake.create_mandate(status=status)
        token = self.env["payment.token"].create(
            {
                "provider_id": self.gocardless.id,
                "payment_method_id": self.sepa_method.id,
                "partner_id": (partner or self.customer).id,
                "provider_ref": mandate["id"],
                "payment_details": mandate["reference"],
                "collection_mandate_status": status,
            }
        )
        return mandate, token

    def _make_eur_invoice(self, amount=120.0, due_date=None):
        """A posted invoice of the customer, in EUR, due ``due_date`` (today
        by default)."""
        invoice = self._make_invoice(
            self.customer,
            amount=amount,
            post=False,
            due_date=due_date or fields.Date.to_string(fields.Date.today()),
        )
        invoice.currency_id = self.currency_euro
        invoice.action_post()
        return invoice

    def _debit_due_invoices(self):
        """Run the due-date job and return the GoCardless debits it sent."""
        self.env["account.move"]._cron_collection_send_due()
        return self.env["payment.transaction"].search(
            [("provider_id", "=", self.gocardless.id)], order="id"
        )

    def _payment_event(self, tx, action, cause=None, description=None, **kwargs):
        """The event GoCardless sends for the payment of ``tx``."""
        payment = self.gocardless_fake.payments[tx.provider_reference]
        return self.gocardless_fake.event(
            "payments",
            action,
            {"payment": payment["id"]},
            cause=cause,
            description=description,
            resource_metadata=payment["metadata"],
            **kwargs,
        )

    def _claimed_events(self):
        return self.env["collection.provider.event"].search(
            [("provider_id", "=", self.gocardless.id)]
        )


class GoCardlessHttpCommon(GoCardlessCommon, HttpCase):
    def _post_webhook(
        self, events=None, secret=WEBHOOK_SECRET, body=None, headers=None
    ):
        """POST a webhook as GoCardless does: ``events`` signed with
        ``secret``, or the raw ``body`` with ``headers``."""
        if body is None:
            body, signed_headers = self.gocardless_fake.webhook(events, secret)
            headers = {**signed_headers, **(headers or {})}
        response = self.url_open(
            GoCardlessController._webhook_url, data=body, headers=headers, timeout=120
        )
        self.env.invalidate_all()
        return response


@tagged("post_install", "-at_install")
class TestGoCardlessProvider(GoCardlessCommon):
    def test_provider_record_and_features(self):
        provider = self.env.ref(
            "account_payment_collection.payment_provider_gocardless"
        ).sudo()
        self.assertEqual(provider.code, "gocardless")
        self.assertEqual(provider.name, "GoCardless")
        self.assertEqual(
            provider.module_id, self.env.ref("base.module_account_payment_collection")
        )
        self.assertIn(
            self.sepa_method,
            provider.with_context(active_test=False).payment_method_ids,
        )
        self.assertTrue(self.gocardless.support_tokenization)
        self.assertEqual(self.gocardless.support_refund, "none")
        self.assertEqual(
            self.gocardless._get_default_payment_method_codes(), {"sepa_direct_debit"}
        )
        self.assertEqual(self.gocardless.available_currency_ids, self.currency_euro)
        self.assertTrue(self.sepa_method.active, "activated with the provider")
        self.assertEqual(
            self.gocardless.gocardless_webhook_url,
            self.gocardless.get_base_url().rstrip("/") + "/payment/gocardless/webhook",
        )
        self.assertFalse(self.demo_provider.gocardless_webhook_url)

    def test_test_connection_success(self):
        action = self.gocardless.action_gocardless_test_connection()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(CREDITOR_NAME, action["params"]["message"])
        self.assertIn("Sandbox", action["params"]["message"])
        (call,) = self.gocardless_fake.calls_to("GET", "/creditors")
        self.assertEqual(call["host"], "api-sandbox.gocardless.com")
        self.assertEqual(call["headers"]["GoCardless-Version"], "2015-07-06")
        self.assertEqual(call["status"], 200)

    def test_test_connection_bad_token(self):
        self.gocardless.gocardless_access_token = "sandbox_revoked_token"
        with mute_logger(PROVIDER_LOGGER):
            action = self.gocardless.action_gocardless_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("GoCardless: Invalid token", action["params"]["message"])
        self.assertNotIn("sandbox_revoked_token", action["params"]["message"])
        self.assertEqual(self.gocardless_fake.calls[0]["status"], 401)

    def test_test_connection_unreachable_or_unconfigured(self):
        self.gocardless_fake.fail_next(3, "drop")
        with mute_logger(PROVIDER_LOGGER):
            action = self.gocardless.action_gocardless_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("could not be reached", action["params"]["message"])
        self.assertEqual(
            len(self.gocardless_fake.calls_to("GET", "/creditors")),
            3,
            "the SDK retried the lost connections",
        )
        self.gocardless.state = "disabled"
        self.gocardless.gocardless_access_token = False
        action = self.gocardless.action_gocardless_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("access token", action["params"]["message"])

    def test_environment_rule(self):
        """Test Mode always talks to the sandbox; an enabled provider talks to
        the environment chosen, and a token of the other environment is
        refused."""
        self.gocardless.gocardless_environment = "live"
        self.assertEqual(self.gocardless._gocardless_get_environment(), "sandbox")
        self.gocardless.action_gocardless_test_connection()
        self.assertEqual(
            self.gocardless_fake.calls[-1]["host"], "api-sandbox.gocardless.com"
        )

        self.gocardless_fake.access_token = "live_apc_fake_access_token"
        self.gocardless.write(
            {
                "state": "enabled",
                "gocardless_access_token": "live_apc_fake_access_token",
            }
        )
        action = self.gocardless.action_gocardless_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Live", action["params"]["message"])
        self.assertEqual(self.gocardless_fake.calls[-1]["host"], "api.gocardless.com")

        with self.assertRefused(ValidationError, "is a sandbox token"):
            self.gocardless.gocardless_access_token = "sandbox_apc_fake_access_token"
        with self.assertRefused(ValidationError, "is a live token"):
            self.gocardless.write(
                {"state": "test", "gocardless_access_token": "live_other_token"}
            )

    def test_credentials_required_and_restricted(self):
        with self.assertRefused(ValidationError, "Access Token"):
            self.gocardless.gocardless_access_token = False
        field = self.gocardless._fields["gocardless_access_token"]
        self.assertEqual(field.groups, "base.group_system")
        self.assertEqual(
            self.gocardless._fields["gocardless_webhook_secret"].groups,
            "base.group_system",
        )

    def test_neutralize_blanks_credentials(self):
        queries = list(get_neutralization_queries(["account_payment_collection"]))
        self.assertTrue(any("gocardless_access_token" in query for query in queries))
        for query in queries:
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.gocardless.gocardless_access_token)
        self.assertFalse(self.gocardless.gocardless_webhook_secret)

    def test_not_offered_on_the_payment_form(self):
        providers = self.env["payment.provider"]._get_compatible_providers(
            self.company.id,
            self.customer.id,
            100.0,
            currency_id=self.currency_euro.id,
        )
        self.assertIn(self.demo_provider, providers)
        self.assertNotIn(self.gocardless, providers)

    def test_registration_method_codes(self):
        self.assertEqual(
            self.gocardless._collection_get_registration_method_codes(),
            ["sepa_direct_debit"],
        )
        self.assertEqual(
            self.demo_provider._collection_get_registration_method_codes(), []
        )
        self.gocardless.available_currency_ids = self.currency_usd
        self.assertEqual(
            self.gocardless._collection_get_registration_method_codes(), []
        )


@tagged("post_install", "-at_install")
class TestGoCardlessRegistration(GoCardlessHttpCommon):
    def _create_registration(self, partner=None):
        partner = partner or self.customer
        return (
            self.env["collection.registration"]
            .sudo()
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "provider_id": self.gocardless.id,
                    "payment_method_code": "sepa_direct_debit",
                }
            )
        )

    def _start(self, registration):
        url = self.gocardless._collection_start_registration(registration)
        registration.state = "pending"  # What the registration page does.
        return url

    def _authorise(self, url):
        """The customer authorises the mandate on the fake's hosted page."""
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("Authorise", page.text)
        response = self.url_open(f"{url}/authorise", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        return response.headers["Location"]

    def _fulfilment_events(self, registration):
        billing_request = self.gocardless_fake.billing_requests[
            registration.provider_reference
        ]
        mandate_id = billing_request["links"]["mandate_request_mandate"]
        fake = self.gocardless_fake
        return [
            fake.event("mandates", "created", {"mandate": mandate_id}),
            fake.event(
                "billing_requests",
                "fulfilled",
                {
                    "billing_request": billing_request["id"],
                    "mandate_request_mandate": mandate_id,
                },
            ),
        ]

    def _assert_registered(self, registration):
        self.env.invalidate_all()
        self.assertEqual(registration.state, "done")
        tokens = self.env["payment.token"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("provider_id", "=", self.gocardless.id),
            ]
        )
        self.assertEqual(len(tokens), 1)
        billing_request = self.gocardless_fake.billing_requests[
            registration.provider_reference
        ]
        mandate = self.gocardless_fake.mandates[
            billing_request["links"]["mandate_request_mandate"]
        ]
        self.assertEqual(tokens.provider_ref, mandate["id"])
        self.assertTrue(tokens.provider_ref.startswith("MD"))
        self.assertEqual(tokens.payment_method_id, self.sepa_method)
        self.assertEqual(tokens.payment_details, mandate["reference"])
        self.assertEqual(tokens.collection_mandate_status, "pending_submission")
        self.assertEqual(registration.token_id, tokens)
        self.assertEqual(self.customer.collection_mode, "automatic")
        self.assertEqual(self.customer.collection_token_id, tokens)
        return tokens

    def test_start_sends_prefilled_billing_request_flow(self):
        registration = self._create_registration()
        url = self._start(registration)

        fake = self.gocardless_fake
        (billing_request_call,) = fake.calls_to("POST", "/billing_requests")
        self.assertEqual(
            billing_request_call["json"],
            {
                "billing_requests": {
                    "mandate_request": {"scheme": "sepa_core", "currency": "EUR"},
                    "metadata": {"odoo_registration_id": str(registration.id)},
                }
            },
        )
        self.assertEqual(
            billing_request_call["headers"]["Idempotency-Key"],
            registration._collection_get_idempotency_key("billing_request"),
        )
        (billing_request,) = fake.billing_requests.values()
        self.assertEqual(registration.provider_reference, billing_request["id"])

        (flow_call,) = fake.calls_to("POST", "/billing_request_flows")
        flow = flow_call["json"]["billing_request_flows"]
        self.assertEqual(flow["links"], {"billing_request": billing_request["id"]})
        self.assertEqual(
            flow["prefilled_customer"],
            {
                "company_name": "Boulangerie Martin",
                "email": "compta@boulangerie.example.com",
                "address_line1": "12 rue des Lilas",
                "city": "Lyon",
                "postal_code": "69003",
                "country_code": "FR",
            },
        )
        self.assertIs(flow["lock_customer_details"], False)
        self.assertEqual(flow["exit_uri"], registration._collection_get_link_url())
        redirect = urlsplit(flow["redirect_uri"])
        self.assertEqual(redirect.path, "/payment/gocardless/return")
        self.assertEqual(
            parse_qs(redirect.query),
            {
                "registration_id": [str(registration.id)],
                "access_token": [registration.access_token],
            },
        )
        self.assertEqual(flow["language"], self.customer.lang.split("_")[0])
        (created_flow,) = fake.flows.values()
        self.assertEqual(url, created_flow["authorisation_url"])

    def test_prefilled_individual_and_same_billing_request_when_sent_twice(self):
        person = self.env["res.partner"].create(
            {"name": "Claire Dubois", "email": "claire@example.com", "city": "Paris"}
        )
        registration = self._create_registration(person)
        first_url = self.gocardless._collection_start_registration(registration)
        second_url = self.gocardless._collection_start_registration(registration)
        fake = self.gocardless_fake
        self.assertEqual(len(fake.billing_requests), 1, "same idempotency key")
        self.assertEqual(len(fake.flows), 2)
        self.assertNotEqual(first_url, second_url)
        self.assertEqual(
            fake.calls_to("POST", "/billing_request_flows")[0]["json"][
                "billing_request_flows"
            ]["prefilled_customer"],
            {
                "given_name": "Claire",
                "family_name": "Dubois",
                "email": "claire@example.com",
                "city": "Paris",
            },
        )

    def test_return_route_completes_then_webhook_does_nothing_more(self):
        registration = self._create_registration()
        redirect_uri = self._authorise(self._start(registration))

        response = self.url_open(redirect_uri, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(
            urlsplit(response.headers["Location"]).path,
            f"/collection/register/confirm/{registration.id}",
        )
        token = self._assert_registered(registration)

        response = self._post_webhook(self._fulfilment_events(registration))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._assert_registered(registration), token)

    def test_webhook_completes_then_return_route_does_nothing_more(self):
        registration = self._create_registration()
        redirect_uri = self._authorise(self._start(registration))

        response = self._post_webhook(self._fulfilment_events(registration))
        self.assertEqual(response.status_code, 200)
        token = self._assert_registered(registration)
        # The mandate's event came before its token existed: nothing to do.
        self.assertEqual(len(self._claimed_events()), 1)

        response = self.url_open(redirect_uri, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._assert_registered(registration), token)

    def test_return_before_authorisation_leaves_pending(self):
        registration = self._create_registration()
        self._start(registration)
        flow = next(iter(self.gocardless_fake.flows.values()))
        response = self.url_open(flow["redirect_uri"], allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(registration.state, "pending")
        self.assertFalse(registration.token_id)

    def test_billing_request_cancelled_fails_registration(self):
        registration = self._create_registration()
        self._start(registration)
        self.gocardless_fake.cancel_billing_request(registration.provider_reference)
        response = self._post_webhook(
            [
                self.gocardless_fake.event(
                    "billing_requests",
                    "cancelled",
                    {"billing_request": registration.provider_reference},
                )
            ]
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(registration.state, "failed")
        self.assertIn("cancelled", registration.state_message)
        self.assertFalse(registration.token_id)
        self.assertNotEqual(self.customer.collection_mode, "automatic")

    def test_return_route_refuses_wrong_registration_or_token(self):
        registration = self._create_registration()
        redirect_uri = self._authorise(self._start(registration))
        query = parse_qs(urlsplit(redirect_uri).query)
        route = GoCardlessController._return_url
        demo_registration = (
            self.env["collection.registration"]
            .sudo()
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "provider_id": self.demo_provider.id,
                    "payment_method_code": "card",
                }
            )
        )
        for params in (
            f"registration_id={registration.id}&access_token=wrong",
            f"registration_id={registration.id}",
            f"registration_id={registration.id + 1000}"
            f"&access_token={query['access_token'][0]}",
            f"registration_id=abc&access_token={query['access_token'][0]}",
            f"registration_id={demo_registration.id}"
            f"&access_token={demo_registration.access_token}",
        ):
            response = self.url_open(f"{route}?{params}", allow_redirects=False)
            self.assertEqual(response.status_code, 404, params)
        self.env.invalidate_all()
        self.assertEqual(registration.state, "pending")
        self.assertFalse(self.gocardless_fake.calls_to("GET", "/billing_requests/"))


@tagged("post_install", "-at_install")
@freeze_time("2026-12-15")
class TestGoCardlessDebit(GoCardlessCommon):
    def setUp(self):
        super().setUp()
        self.mandate, self.mandate_token = self._create_mandate_token()
        self._set_automatic(self.customer, self.mandate_token)

    def test_due_invoice_debited_pending(self):
        invoice = self._make_eur_invoice(amount=123.45)
        tx = self._debit_due_invoices()
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.state, "pending")
        (payment,) = self.gocardless_fake.payments.values()
        self.assertEqual(tx.provider_reference, payment["id"])
        self.assertTrue(tx.provider_reference.startswith("PM"))
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 123.45)
        (call,) = self.gocardless_fake.calls_to("POST", "/payments")
        self.assertEqual(
            call["headers"]["Idempotency-Key"], tx.collection_idempotency_key
        )
        self.assertEqual(
            call["json"]["payments"],
            {
                "amount": 12345,
                "currency": "EUR",
                "reference": tx.reference,
                "description": invoice.name,
                "metadata": {
                    "odoo_reference": tx.reference,
                    "odoo_database": self.env["ir.config_parameter"].get_param(
                        "database.uuid"
                    ),
                },
                "retry_if_possible": False,
                "links": {"mandate": self.mandate["id"]},
            },
        )
        # A second run sends nothing more.
        self.assertEqual(self._debit_due_invoices(), tx)
        self.assertEqual(len(self.gocardless_fake.payments), 1)

    def test_inactive_mandate_is_a_hard_failure_and_deactivates_the_token(self):
        self.gocardless_fake.set_mandate_status(self.mandate["id"], "cancelled")
        invoice = self._make_eur_invoice()
        with mute_logger(PROVIDER_LOGGER, *TRANSACTION_LOGGERS):
            tx = self._debit_due_invoices()
        self.assertEqual(tx.state, "error")
        self.assertEqual(tx.collection_failure_kind, "hard")
        self.assertEqual(tx.collection_failure_code, "mandate_is_inactive")
        self.assertIn("cancelled, failed or expired", tx.state_message)
        self.assertFalse(self.mandate_token.active)
        self.assertFalse(self.gocardless_fake.payments)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(self.customer._collection_get_debit_token())

    def test_refused_payment_is_a_hard_failure(self):
        """A payment GoCardless refuses (here: not in the mandate's
        currency) fails for good, the mandate stays usable."""
        invoice = self._make_invoice(self.customer, post=False, due_date="2026-12-15")
        invoice.currency_id = self.currency_usd
        invoice.action_post()
        with mute_logger(PROVIDER_LOGGER, *TRANSACTION_LOGGERS):
            tx = self._debit_due_invoices()
        self.assertEqual(tx.currency_id, self.currency_usd)
        self.assertEqual(tx.state, "error")
        self.assertEqual(tx.collection_failure_kind, "hard")
        self.assertEqual(tx.collection_failure_code, "validation_failed")
        self.assertIn("currency must be EUR", tx.state_message)
        self.assertTrue(self.mandate_token.active)

    def test_lost_answer_then_same_payment_on_resend(self):
        """The payment is created but its answer is lost (3 times, the SDK's
        attempts): the outcome is unknown; sent again with the same key,
        GoCardless answers with the same payment."""
        invoice = self._make_eur_invoice()
        tx = self.env["payment.transaction"]._collection_create_debit(
            self.mandate_token, invoice.amount_residual, invoice, invoice, 1
        )
        fake = self.gocardless_fake
        fake.fail_next(3, "drop_after", path="/payments")
        with mute_logger(PROVIDER_LOGGER), self.assertRaises(CollectionUnknownOutcome):
            tx._send_payment_request()
        self.assertEqual(tx.state, "draft")
        self.assertFalse(tx.provider_reference)
        self.assertEqual(len(fake.payments), 1)

        tx._send_payment_request()
        (payment,) = fake.payments.values()
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.provider_reference, payment["id"])
        keys = {
            call["headers"]["Idempotency-Key"]
            for call in fake.calls_to("POST", "/payments")
        }
        self.assertEqual(keys, {tx.collection_idempotency_key})
        self.assertEqual(len(fake.calls_to("POST", "/payments")), 4)
        self.assertEqual(fake.calls_to("POST", "/payments")[-1]["status"], 409)

    def test_unanswered_debit_resent_by_the_job(self):
        invoice = self._make_eur_invoice()
        fake = self.gocardless_fake
        fake.fail_next(3, "drop_after", path="/payments")
        with mute_logger(PROVIDER_LOGGER, *TRANSACTION_LOGGERS):
            tx = self._debit_due_invoices()
        self.assertEqual(tx.state, "draft")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(len(fake.payments), 1)
        self.env["payment.transaction"]._collection_resend_unanswered()
        self.assertEqual(tx.state, "pending")
        self.assertEqual(len(fake.payments), 1)
        self.assertEqual(tx.provider_reference, next(iter(fake.payments)))

    def test_server_errors_are_unknown_outcomes(self):
        invoice = self._make_eur_invoice()
        tx = self.env["payment.transaction"]._collection_create_debit(
            self.mandate_token, invoice.amount_residual, invoice, invoice, 1
        )
        fake = self.gocardless_fake
        for count, mode in ((1, "500"), (3, "502"), (3, "drop")):
            fake.fail_next(count, mode, path="/payments")
            with (
                mute_logger(PROVIDER_LOGGER),
                self.assertRaises(CollectionUnknownOutcome, msg=mode),
            ):
                tx._send_payment_request()
            self.assertEqual(tx.state, "draft", mode)
        self.assertFalse(fake.payments)
        # Outside of a debit, the same errors are plain validation errors.
        fake.fail_next(1, "500")
        with (
            mute_logger(PROVIDER_LOGGER),
            self.assertRaisesRegex(ValidationError, "GoCardless: Uh-oh"),
        ):
            self.gocardless._gocardless_call("creditors", "list")


@tagged("post_install", "-at_install")
class TestGoCardlessWebhook(GoCardlessHttpCommon):
    def setUp(self):
        super().setUp()
        self.mandate, self.mandate_token = self._create_mandate_token()
        self._set_automatic(self.customer, self.mandate_token)
        self.invoice = self._make_eur_invoice(amount=250.0)
        self.tx = self._debit_due_invoices()
        self.assertEqual(self.tx.state, "pending")

    def _set_status(self, status):
        self.gocardless_fake.set_payment_status(self.tx.provider_reference, status)

    def _confirm(self):
        self._set_status("confirmed")
        response = self._post_webhook([self._payment_event(self.tx, "confirmed")])
        self.assertEqual(response.status_code, 200)
        self.tx._post_process()  # What the triggered post-processing job does.
        self.env.invalidate_all()

    def test_confirmed_event_books_the_invoice_once(self):
        self._set_status("confirmed")
        events = [self._payment_event(self.tx, "confirmed")]
        body, headers = self.gocardless_fake.webhook(events)
        response = self._post_webhook(body=body, headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.tx.state, "done")
        self.tx._post_process()
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.invoice.amount_residual, 0.0)
        self.assertEqual(self.tx.payment_id.amount, 250.0)

        # GoCardless delivers the same webhook again.
        response = self._post_webhook(body=body, headers=headers)
        self.assertEqual(response.status_code, 200)
        self.tx._post_process()
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("payment_transaction_id", "=", self.tx.id)]
            ),
            1,
        )
        self.assertEqual(len(self._claimed_events()), 1)
        self.assertEqual(len(self.gocardless_fake.calls_to("GET", "/payments/")), 1)

    def test_soft_failure(self):
        self._set_status("failed")
        response = self._post_webhook(
            [
                self._payment_event(
                    self.tx,
                    "failed",
                    cause="insufficient_funds",
                    description="The customer's account had insufficient funds.",
                )
            ]
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.tx.state, "error")
        self.assertEqual(self.tx.collection_failure_kind, "soft")
        self.assertEqual(self.tx.collection_failure_code, "insufficient_funds")
        self.assertIn("insufficient funds", self.tx.state_message)
        self.assertEqual(self.invoice.payment_state, "not_paid")
        self.assertTrue(self.mandate_token.active)

    def test_hard_failure(self):
        self._set_status("failed")
        self._post_webhook(
            [self._payment_event(self.tx, "failed", cause="bank_account_closed")]
        )
        self.assertEqual(self.tx.state, "error")
        self.assertEqual(self.tx.collection_failure_kind, "hard")
        self.assertEqual(self.tx.collection_failure_code, "bank_account_closed")

    def test_late_failure_reverses_the_booked_debit(self):
        self._confirm()
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self._set_status("failed")
        response = self._post_webhook(
            [self._payment_event(self.tx, "failed", cause="refer_to_payer")]
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.tx.state, "done")
        self.assertTrue(self.tx.collection_reversed)
        self.assertEqual(self.invoice.amount_residual, 250.0)
        self.assertEqual(self.invoice.payment_state, "not_paid")

    def test_chargeback_reverses_the_booked_debit_once(self):
        self._confirm()
        self._set_status("paid_out")
        self._post_webhook([self._payment_event(self.tx, "paid_out")])
        self._set_status("charged_back")
        events = [
            self._payment_event(self.tx, "charged_back", cause="authorisation_disputed")
        ]
        body, headers = self.gocardless_fake.webhook(events)
        self.assertEqual(
            self._post_webhook(body=body, headers=headers).status_code, 200
        )
        self.assertTrue(self.tx.collection_reversed)
        self.assertEqual(self.invoice.amount_residual, 250.0)
        reversal = self.tx.collection_reversal_move_id
        self.assertTrue(reversal)
        # The same chargeback again, under a new event id: nothing more.
        events = [self._payment_event(self.tx, "chargeback_settled")]
        self.assertEqual(self._post_webhook(events).status_code, 200)
        self.assertEqual(self.tx.collection_reversal_move_id, reversal)
        self.assertEqual(self.invoice.amount_residual, 250.0)

    def test_out_of_order_events(self):
        """The payment's current status wins, whatever the order of its
        events."""
        self._set_status("confirmed")
        confirmed = self._payment_event(self.tx, "confirmed")
        submitted = self._payment_event(self.tx, "submitted")
        created = self._payment_event(self.tx, "created")
        self.assertEqual(self._post_webhook([confirmed, created]).status_code, 200)
        self.assertEqual(self.tx.state, "done")
        self.assertEqual(self._post_webhook([submitted]).status_code, 200)
        self.assertEqual(self.tx.state, "done")

        # Another debit fails; its "confirmed" event arrives after the failure.
        self.env.invalidate_all()
        invoice = self._make_eur_invoice(amount=80.0)
        other_tx = self._debit_due_invoices() - self.tx
        self.gocardless_fake.set_payment_status(other_tx.provider_reference, "failed")
        stale = self._payment_event(other_tx, "confirmed")
        failed = self._payment_event(other_tx, "failed", cause="insufficient_funds")
        self.assertEqual(self._post_webhook([stale]).status_code, 200)
        self.assertEqual(other_tx.state, "pending", "waits for the failure's event")
        self.assertEqual(self._post_webhook([failed]).status_code, 200)
        self.assertEqual(other_tx.state, "error")
        self.assertEqual(other_tx.collection_failure_kind, "soft")
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_mandate_events(self):
        fake = self.gocardless_fake
        mandate_id = self.mandate["id"]
        fake.set_mandate_status(mandate_id, "submitted")
        self._post_webhook(
            [fake.event("mandates", "submitted", {"mandate": mandate_id})]
        )
        self.assertEqual(self.mandate_token.collection_mandate_status, "submitted")
        self.assertTrue(self.mandate_token.active)

        fake.set_mandate_status(mandate_id, "cancelled")
        response = self._post_webhook(
            [
                fake.event(
                    "mandates",
                    "cancelled",
                    {"mandate": mandate_id},
                    cause="bank_account_closed",
                    description="The customer's bank account was closed.",
                ),
                # An older event, delivered late: the mandate stays cancelled.
                fake.event("mandates", "active", {"mandate": mandate_id}),
            ]
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(self.mandate_token.active)
        self.assertEqual(self.mandate_token.collection_mandate_status, "cancelled")
        self.assertFalse(self.customer._collection_get_debit_token())

    def test_bad_or_missing_signature_is_refused_before_anything(self):
        self._set_status("confirmed")
        events = [self._payment_event(self.tx, "confirmed")]
        body, headers = self.gocardless_fake.webhook(events)
        calls_before = len(self.gocardless_fake.calls)
        tampered = body.replace(b"confirmed", b"cancelled")
        cases = {
            "missing": (body, {"Content-Type": "application/json"}),
            "other secret": (
                body,
                {**headers, "Webhook-Signature": sign(body, "nope")},
            ),
            "tampered body": (tampered, headers),
            "malformed": (body, {**headers, "Webhook-Signature": "not-hex"}),
        }
        for case, (case_body, case_headers) in cases.items():
            with mute_logger(CONTROLLER_LOGGER):
                response = self._post_webhook(body=case_body, headers=case_headers)
            self.assertEqual(response.status_code, 498, case)
            self.assertEqual(response.text, "Invalid signature", case)
        self.assertEqual(self.tx.state, "pending")
        self.assertFalse(self._claimed_events())
        self.assertEqual(len(self.gocardless_fake.calls), calls_before)

    def test_no_secret_configured_refuses_every_webhook(self):
        self.gocardless.gocardless_webhook_secret = False
        self._set_status("confirmed")
        for secret in (WEBHOOK_SECRET, ""):
            with mute_logger(CONTROLLER_LOGGER):
                response = self._post_webhook(
                    [self._payment_event(self.tx, "confirmed")], secret=secret
                )
            self.assertEqual(response.status_code, 498)
        self.assertEqual(self.tx.state, "pending")
        self.assertFalse(self._claimed_events())

    def test_events_of_others_are_acknowledged_with_204(self):
        fake = self.gocardless_fake
        other_payment = fake.event("payments", "confirmed", {"payment": "PM0OUTSIDE"})
        other_database = fake.event(
            "payments",
            "confirmed",
            {"payment": "PM0OTHERDB"},
            resource_metadata={"odoo_reference": "X", "odoo_database": "other-db"},
        )
        fake.payments["PM0OUTSIDE"] = {
            "id": "PM0OUTSIDE",
            "status": "confirmed",
            "metadata": {},
            "amount": 100,
            "currency": "EUR",
        }
        events = [
            fake.event("payouts", "paid", {"payout": "PO123"}),
            fake.event("creditors", "updated", {"creditor": "CR123"}),
            fake.event("mandates", "cancelled", {"mandate": "MD0UNKNOWN"}),
            fake.event("billing_requests", "fulfilled", {"billing_request": "BRQ0X"}),
            other_payment,
            other_database,
        ]
        with mute_logger(PROVIDER_LOGGER):
            response = self._post_webhook(events)
        self.assertEqual(response.status_code, 204)
        self.assertFalse(self._claimed_events())
        self.assertEqual(self.tx.state, "pending")

    def test_failing_event_is_retried_without_stopping_the_others(self):
        """A debit of this database not visible yet (its transaction is not
        committed): the event fails and is not claimed, so that GoCardless's
        retry processes it; the other events of the batch are processed."""
        self._set_status("confirmed")
        database_uuid = (
            self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        )
        not_yet = self.gocardless_fake.event(
            "payments",
            "confirmed",
            {"payment": "PM0NOTYET"},
            resource_metadata={
                "odoo_reference": "INV-NOT-COMMITTED-1",
                "odoo_database": database_uuid,
            },
        )
        confirmed = self._payment_event(self.tx, "confirmed")
        body, headers = self.gocardless_fake.webhook([not_yet, confirmed])
        with mute_logger(CONTROLLER_LOGGER):
            response = self._post_webhook(body=body, headers=headers)
        self.assertEqual(response.status_code, 500)
        self.assertEqual(self.tx.state, "done")
        self.assertEqual(self._claimed_events().mapped("event_id"), [confirmed["id"]])
        # GoCardless retries the batch: the processed event is skipped.
        with mute_logger(CONTROLLER_LOGGER):
            response = self._post_webhook(body=body, headers=headers)
        self.assertEqual(response.status_code, 500)
        self.assertEqual(len(self._claimed_events()), 1)

    def test_unanswered_debit_reconciled_by_its_event(self):
        """A debit whose answer was lost has no payment id in Odoo: its event
        finds it by the reference in the payment's metadata."""
        invoice = self._make_eur_invoice(amount=42.0)
        self.gocardless_fake.fail_next(3, "drop_after", path="/payments")
        with mute_logger(PROVIDER_LOGGER, *TRANSACTION_LOGGERS):
            tx = self._debit_due_invoices() - self.tx
        self.assertEqual(tx.state, "draft")
        payment = next(
            p
            for p in self.gocardless_fake.payments.values()
            if p["metadata"]["odoo_reference"] == tx.reference
        )
        self.gocardless_fake.set_payment_status(payment["id"], "confirmed")
        event = self.gocardless_fake.event(
            "payments",
            "confirmed",
            {"payment": payment["id"]},
            resource_metadata=payment["metadata"],
        )
        self.assertEqual(self._post_webhook([event]).status_code, 200)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.provider_reference, payment["id"])
        tx._post_process()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_batch_of_250_events(self):
        invoices = self.env["account.move"]
        for index in range(49):
            invoices |= self._make_eur_invoice(amount=10.0 + index)
        self.env["account.move"]._cron_collection_send_due(batch_size=100)
        txs = self.env["payment.transaction"].search(
            [("provider_id", "=", self.gocardless.id)]
        )
        self.assertEqual(len(txs), 50)
        self.assertEqual(set(txs.mapped("state")), {"pending"})
        events = []
        for tx in txs:
            self.gocardless_fake.set_payment_status(tx.provider_reference, "paid_out")
            events += [
                self._payment_event(tx, action)
                for action in ("created", "submitted", "confirmed", "paid_out")
            ]
        events += [
            self.gocardless_fake.event(
                "mandates", "active", {"mandate": self.mandate["id"]}
            )
            for __ in range(50)
        ]
        self.assertEqual(len(events), 250)
        self.gocardless_fake.set_mandate_status(self.mandate["id"], "active")
        body, headers = self.gocardless_fake.webhook(events)
        self.assertEqual(len(json.loads(body)["events"]), 250)
        response = self._post_webhook(body=body, headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(txs.mapped("state")), {"done"})
        self.assertEqual(len(self._claimed_events()), 250)
        self.assertEqual(self.mandate_token.collection_mandate_status, "active")
        # Each payment and mandate is fetched once for the batch.
        self.assertEqual(len(self.gocardless_fake.calls_to("GET", "/payments/")), 50)
        self.assertEqual(len(self.gocardless_fake.calls_to("GET", "/mandates/")), 1)
        txs._post_process()
        self.assertEqual(
            set((invoices | self.invoice).mapped("amount_residual")), {0.0}
        )
