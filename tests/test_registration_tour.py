# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import time

from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from .common import CollectionCommon
from .fake_stripe import StripeFakeMixin


class RegistrationTourCommon(StripeFakeMixin, CollectionCommon, HttpCase):
    """The test company with Stripe (card and SEPA), on the fake Stripe API."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sepa = cls.env.ref("payment.payment_method_sepa_direct_debit")
        cls.stripe_provider = cls._prepare_provider(
            "stripe",
            company=cls.company,
            update_values={
                "stripe_secret_key": "sk_test_tour",
                "stripe_publishable_key": "pk_test_tour",
                "stripe_webhook_secret": "whsec_tour",
                "payment_method_ids": [Command.set((cls.card_method | sepa).ids)],
            },
        )
        sepa.active = True


@tagged("post_install", "-at_install")
class TestRegistrationTour(RegistrationTourCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls._make_user(
            "tour_accountant",
            "account.group_account_manager,base.group_partner_manager",
            email="accountant@company.example.com",
        )
        cls.customer.write(
            {
                "collection_mode": "offline",
                "property_inbound_payment_method_line_id": cls.cheque_line.id,
            }
        )

    def test_accountant_sends_the_link(self):
        self.start_tour(
            f"/odoo/res.partner/{self.customer.id}",
            "account_payment_collection_send_registration_link",
            login=self.accountant.login,
        )
        customer = self.customer.with_company(self.company)
        customer.invalidate_recordset()
        self.assertEqual(customer.collection_mode, "automatic")
        self.assertTrue(customer.collection_registration_pending)
        mail = self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", customer.id),
                ("subject", "like", "pay your invoices automatically"),
            ]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("/collection/register/", mail.body)
        self.assertIn(self.customer, mail.partner_ids)


@tagged("post_install", "-at_install")
class TestRegistrationPhoneTour(RegistrationTourCommon):
    browser_size = "375x667"
    touch_enabled = True

    def _hosted_page_opened(self, session):
        return f"/checkout/{session['id']}" in self.stripe_fake.page_views

    def test_customer_saves_a_card_on_a_phone(self):
        url = self.customer.with_company(self.company).collection_registration_url
        self.start_tour(
            url[url.index("/collection/") :],
            "account_payment_collection_registration_phone",
        )
        registration = self.env["collection.registration"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(len(registration), 1)
        self.assertEqual(registration.state, "pending")
        self.assertEqual(registration.payment_method_code, "card")
        session = self.stripe_fake.sessions[registration.provider_reference]
        # The phone's browser reached the provider's page (the fake's).
        for _wait in range(50):
            if self._hosted_page_opened(session):
                break
            time.sleep(0.1)
        self.assertTrue(self._hosted_page_opened(session))

        # The customer saves the card there: the provider sends them back.
        self.stripe_fake.complete_session(session["id"])
        success_url = session["success_url"].replace(
            "{CHECKOUT_SESSION_ID}", session["id"]
        )
        self.start_tour(
            success_url[success_url.index("/collection/") :],
            "account_payment_collection_registration_confirmed",
        )
        registration.invalidate_recordset()
        self.assertEqual(registration.state, "done")
        customer = self.customer.with_company(self.company)
        self.assertEqual(customer.collection_mode, "automatic")
        self.assertEqual(customer.collection_token_id, registration.token_id)
        self.assertEqual(registration.token_id.provider_ref, session["customer"])
