# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from urllib.parse import parse_qs, urlsplit

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from .common import CollectionCommon


class RegistrationCommon(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"mobile": "+33 6 12 34 56 78", "lang": "en_US"})
        cls.sepa_method = cls.env.ref("payment.payment_method_sepa_direct_debit")

    def _registration(self, partner=None, **values):
        return (
            self.env["collection.registration"]
            .sudo()
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "company_id": self.company.id,
                    "provider_id": self.demo_provider.id,
                    "payment_method_code": "sepa_direct_debit",
                    "provider_reference": f"BRQ-{(partner or self.customer).id}",
                    "state": "pending",
                    **values,
                }
            )
        )

    def _token_values(self, reference="MD0001"):
        return {
            "provider_ref": reference,
            "payment_details": "MANDATE-0001",
            "payment_method_id": self.sepa_method.id,
            "collection_mandate_status": "pending_submission",
        }


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 10:00:00")
class TestRegistration(RegistrationCommon):
    def test_completion_creates_one_token_and_collects_from_it(self):
        self._set_offline(self.customer, self.cheque_line)
        not_due = self._make_invoice(self.customer, due_date="2026-12-20")
        overdue = self._make_invoice(self.customer, due_date="2026-11-20")
        registration = self._registration()

        token = registration._collection_complete(self._token_values())
        again = registration._collection_complete(self._token_values("MD-other"))

        self.assertEqual(again, token, "the webhook and the return page save one token")
        self.assertEqual(
            self.env["payment.token"].search_count(
                [("partner_id", "=", self.customer.id), ("provider_ref", "like", "MD")]
            ),
            1,
        )
        self.assertEqual(registration.state, "done")
        self.assertEqual(registration.token_id, token)
        self.assertEqual(token.partner_id, self.customer)
        self.assertEqual(self.customer.collection_mode, "automatic")
        self.assertEqual(self.customer.collection_token_id, token)
        self.assertFalse(self.customer.collection_registration_pending)
        self.assertIn("SEPA Direct Debit MANDATE-0001", token.display_name)
        self.assertIn("pending submission", token.display_name)
        # Invoices not due yet are debited on their due date; overdue ones stay
        # in the reminders (the customer did not agree to be debited for them).
        self.assertEqual(not_due.collection_state, "scheduled")
        self.assertFalse(overdue.collection_state)
        self.assertTrue(
            self.customer.activity_ids.filtered(
                lambda a: "saved by the customer" in a.summary
            )
        )

    def test_failures_greylist_and_reset(self):
        self.company.collection_greylist_threshold = 2
        self._registration(provider_reference="A")._collection_fail("Expired")
        self.assertFalse(self.customer.collection_greylisted)
        failed = self._registration(provider_reference="B")
        failed._collection_fail("Bank refused")
        failed._collection_fail("Bank refused")  # a replayed event: counted once
        self.assertEqual(self.customer.collection_registration_failures, 2)
        self.assertTrue(self.customer.collection_greylisted)
        self.assertIn("Grey-listed", self.customer.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "grey list"):
            self.customer.action_collection_send_registration_link()

        self.customer.action_collection_remove_greylist()
        self.assertFalse(self.customer.collection_greylisted)
        self.assertEqual(self.customer.collection_registration_failures, 0)

    def test_success_resets_the_consecutive_failures(self):
        self._registration(provider_reference="A")._collection_fail("Expired")
        self._registration(provider_reference="B")._collection_complete(
            self._token_values()
        )
        self.assertEqual(self.customer.collection_registration_failures, 0)

    def test_link_is_signed_bound_and_expires(self):
        url = self.customer.collection_registration_url
        parts = urlsplit(url)
        self.assertEqual(parts.path, f"/collection/register/{self.customer.id}")
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        self.assertEqual(query["company"], str(self.company.id))
        check = self.customer._collection_check_registration_link
        self.assertEqual(check(query["expires"], query["signature"]), "valid")
        # Another customer, another expiry or a forged signature: invalid.
        self.assertEqual(
            self.other_customer._collection_check_registration_link(
                query["expires"], query["signature"]
            ),
            "invalid",
        )
        later = str(int(query["expires"]) + 3600)
        self.assertEqual(check(later, query["signature"]), "invalid")
        self.assertEqual(check(query["expires"], "0" * 64), "invalid")
        self.assertEqual(check("１２３", query["signature"]), "invalid")
        self.assertEqual(check(None, None), "invalid")
        # Contacts share their company's link.
        self.assertEqual(self.contact.collection_registration_url, url)
        with freeze_time("2026-12-16 12:00:00"):
            self.assertEqual(check(query["expires"], query["signature"]), "expired")

    def test_revoke_links(self):
        url = self.customer.collection_registration_url
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        invoice = self._make_invoice(self.customer)
        invoice._portal_ensure_token()
        self.customer.action_collection_revoke_links()
        self.assertEqual(
            self.customer._collection_check_registration_link(
                query["expires"], query["signature"]
            ),
            "invalid",
        )
        self.assertFalse(invoice.access_token)
        new_url = self.customer.collection_registration_url
        new_query = {k: v[0] for k, v in parse_qs(urlsplit(new_url).query).items()}
        self.assertEqual(
            self.customer._collection_check_registration_link(
                new_query["expires"], new_query["signature"]
            ),
            "valid",
        )

    def test_sending_needs_a_provider_an_address_and_rights(self):
        with self.assertRaisesRegex(UserError, "No payment provider"):
            self.customer.action_collection_send_registration_link()
        salesman = self._make_user("reg_sales", "sales_team.group_sale_salesman")
        with self.assertRaises(AccessError):
            self.customer.with_user(salesman).action_collection_revoke_links()


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 10:00:00")
class TestRegistrationPage(RegistrationCommon, HttpCase):
    def _open(self, url, data=None):
        path = url[url.index("/collection/") :]
        if data is not None:
            return self.url_open(path, data=data, allow_redirects=False)
        return self.url_open(path, allow_redirects=False)

    def _csrf_token(self, url):
        page = self._open(url).text
        return re.search(r'csrf_token: "(\w+)"', page).group(1)

    def test_page_in_the_customer_language_without_provider(self):
        self.env.ref("base.lang_fr").active = True
        self.customer.lang = "fr_FR"
        response = self._open(self.customer.collection_registration_url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.company.name, response.text)
        # Without a provider offering registration, the page says so.
        self.assertIn("o_account_payment_collection_registration", response.text)

    @mute_logger("odoo.http")
    def test_bad_links_are_not_found(self):
        url = self.customer.collection_registration_url
        for bad in (
            url.replace("signature=", "signature=0"),
            url.replace(
                f"/register/{self.customer.id}", f"/register/{self.other_customer.id}"
            ),
            url.replace(f"company={self.company.id}", "company=999999"),
            url.replace(f"company={self.company.id}", "company=%C3%A9"),
            url.split("?")[0],
            url.replace("/register/", "/register/99999999"),
        ):
            with self.subTest(url=bad):
                self.assertEqual(self._open(bad).status_code, 404)

    def test_expired_and_greylisted_links_are_closed(self):
        url = self.customer.collection_registration_url
        with freeze_time("2026-12-31"):
            response = self._open(url)
            self.assertEqual(response.status_code, 403)
            self.assertIn("expired", response.text)
        self.customer.sudo().collection_greylisted = True
        response = self._open(url)
        self.assertEqual(response.status_code, 403)
        self.assertIn("closed", response.text)
        self.customer.action_collection_remove_greylist()
        self.assertEqual(self._open(url).status_code, 200)

    def test_bad_choice_is_refused_and_nothing_stored(self):
        url = self.customer.collection_registration_url
        self.authenticate(None, None)
        for data in (
            {"provider_id": str(self.demo_provider.id), "payment_method_code": "card"},
            {"provider_id": "abc"},
            {"provider_id": "1" * 40},
            {},
        ):
            with self.subTest(data=data):
                data["csrf_token"] = (
                    self.csrf_token() if hasattr(self, "csrf_token") else ""
                )
                response = self._open(url, data=data)
                self.assertIn(response.status_code, (400, 422))
        self.assertFalse(
            self.env["collection.registration"].search(
                [("partner_id", "=", self.customer.id)]
            )
        )

    def test_confirmation_page_needs_its_token(self):
        registration = self._registration()
        registration._collection_complete(self._token_values())
        url = registration._collection_get_confirmation_url()
        response = self._open(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("MANDATE-0001", response.text)
        other = self._registration(self.other_customer)
        with mute_logger("odoo.http"):
            self.assertEqual(
                self._open(
                    url.replace(f"/confirm/{registration.id}", f"/confirm/{other.id}")
                ).status_code,
                404,
            )
            self.assertEqual(self._open(url.split("?")[0]).status_code, 404)
