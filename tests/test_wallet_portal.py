# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import html

from odoo import http
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .test_wallet import WalletCommon

HOME_BALANCE = (
    "//*[contains(@class, 'o_account_payment_collection_wallet_home_balance')]"
)
NOTICE = "//*[contains(@class, 'o_account_payment_collection_wallet_notice')]"
PAY_FORM = "//form[contains(@class, 'o_account_payment_collection_wallet_pay')]"
ROWS = "//tr[contains(@class, 'o_account_payment_collection_wallet_row')]"


class WalletPortalCommon(WalletCommon):
    """Portal customers of the wallet tests (no test here): Claire works for
    Boulangerie Martin, Atelier Dupont is another customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_values = {
            "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
        }
        cls.portal_user = new_test_user(
            cls.env,
            "apc_wallet_claire",
            groups="base.group_portal",
            partner_id=cls.contact.id,
            **company_values,
        )
        cls.other_portal_user = new_test_user(
            cls.env,
            "apc_wallet_dupont",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
            **company_values,
        )

    def _login(self, user=None):
        user = user or self.portal_user
        self.authenticate(user.login, user.login)

    def _pay(self, invoice, access_token=None, csrf=True):
        data = {}
        if csrf:
            data["csrf_token"] = http.Request.csrf_token(self)
        # Never an empty body: the test client would send a GET.
        data["access_token"] = access_token or ""
        response = self.url_open(
            f"/my/invoices/{invoice.id}/pay_with_wallet",
            data=data,
            allow_redirects=False,
        )
        # The request ran in the test's transaction: read what it stored.
        self.env.invalidate_all()
        return response

    def _page(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return html.fromstring(response.content)


@tagged("post_install", "-at_install")
class TestWalletPortal(WalletPortalCommon, HttpCase):
    def test_home_shows_the_balance(self):
        self._collection_top_up(self.customer, 80.0)
        self._login()
        page = self._page("/my")
        balance = page.xpath(HOME_BALANCE)
        self.assertEqual(len(balance), 1)
        self.assertIn("80.00", balance[0].text_content())
        card = balance[0].xpath("ancestor::a")[0]
        self.assertEqual(card.get("href"), "/my/wallet")
        # Atelier Dupont has no wallet: no card, and not Claire's balance.
        self._login(self.other_portal_user)
        page = self._page("/my")
        self.assertFalse(page.xpath(HOME_BALANCE))

    def test_wallet_page_lists_the_customers_history_only(self):
        self._collection_top_up(self.customer, 100.0)
        self._make_invoice(self.customer, 30.0).action_collection_pay_with_wallet()
        self._collection_top_up(self.other_customer, 55.0)
        self._login()
        page = self._page("/my/wallet")
        balance = page.xpath(
            "//*[contains(@class, 'o_account_payment_collection_wallet_balance')]"
        )[0]
        self.assertIn("70.00", balance.text_content())
        rows = page.xpath(ROWS)
        self.assertEqual(len(rows), 2)
        self.assertIn("Invoice payment", rows[0].text_content())
        self.assertIn("30.00", rows[0].text_content())
        self.assertIn("Top-up", rows[1].text_content())
        self.assertNotIn("55.00", page.text_content())
        # Atelier Dupont sees its own wallet only.
        self._login(self.other_portal_user)
        page = self._page("/my/wallet")
        rows = page.xpath(ROWS)
        self.assertEqual(len(rows), 1)
        self.assertIn("55.00", rows[0].text_content())
        self.assertNotIn("70.00", page.text_content())

    def test_wallet_page_needs_a_login(self):
        self.authenticate(None, None)
        response = self.url_open("/my/wallet", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])

    def test_invoice_page_offers_the_wallet_when_it_can_pay(self):
        invoice = self._make_invoice(self.customer, 100.0)
        self._login()
        selector = PAY_FORM
        self.assertFalse(self._page(invoice.get_portal_url()).xpath(selector))
        self._collection_top_up(self.customer, 60.0)
        form = self._page(invoice.get_portal_url()).xpath(selector)
        self.assertEqual(len(form), 1)
        self.assertEqual(
            form[0].get("action"), f"/my/invoices/{invoice.id}/pay_with_wallet"
        )
        self.assertEqual(form[0].get("method"), "post")
        self.assertIn("60.00", form[0].text_content())
        self.assertIn("Pay with my wallet", form[0].text_content())
        on_hold = self._make_invoice(self.customer, 10.0)
        on_hold.collection_block_reason = "dispute"
        self.assertFalse(self._page(on_hold.get_portal_url()).xpath(selector))

    def test_pay_logged_in(self):
        self._collection_top_up(self.customer, 60.0)
        invoice = self._make_invoice(self.customer, 100.0)
        self._login()
        response = self._pay(invoice)
        self.assertEqual(response.status_code, 303)
        self.assertIn(f"/my/invoices/{invoice.id}", response.headers["Location"])
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 40.0)
        self.assertEqual(self._balance(self.customer), 0.0)
        page = self._page(response.headers["Location"])
        notice = page.xpath(NOTICE)
        self.assertEqual(len(notice), 1)
        self.assertIn("alert-success", notice[0].get("class"))
        self.assertIn("40.00 is left to pay", notice[0].text_content())
        # The notice is shown once.
        page = self._page(response.headers["Location"])
        self.assertFalse(page.xpath(NOTICE))
        self.assertTrue(
            invoice.message_ids.filtered(
                lambda message: "paid from the wallet" in (message.body or "")
            )
        )

    def test_pay_with_the_invoice_link(self):
        self._collection_top_up(self.customer, 150.0)
        invoice = self._make_invoice(self.customer, 100.0)
        invoice._portal_ensure_token()
        self.authenticate(None, None)
        response = self._pay(invoice, access_token=invoice.access_token)
        self.assertEqual(response.status_code, 303)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self._balance(self.customer), 50.0)
        page = self._page(response.headers["Location"])
        notice = page.xpath(NOTICE)
        self.assertIn("Paid with your wallet", notice[0].text_content())

    def test_double_post_pays_once(self):
        self._collection_top_up(self.customer, 150.0)
        invoice = self._make_invoice(self.customer, 100.0)
        self._login()
        self._pay(invoice)
        response = self._pay(invoice)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(len(self._wallet_entries(invoice)), 1)
        self.assertEqual(self._balance(self.customer), 50.0)
        notice = self._page(response.headers["Location"]).xpath(NOTICE)
        self.assertIn("alert-danger", notice[0].get("class"))
        self.assertIn("it is paid", notice[0].text_content())

    def test_refusal_is_shown_on_the_invoice(self):
        self._collection_top_up(self.customer, 100.0)
        invoice = self._make_invoice(self.customer, 50.0)
        invoice.collection_block_reason = "dispute"
        self._login()
        response = self._pay(invoice)
        self.assertEqual(response.status_code, 303)
        notice = self._page(response.headers["Location"]).xpath(NOTICE)
        self.assertIn("on hold", notice[0].text_content())
        self.assertEqual(invoice.amount_residual, 50.0)
        self.assertEqual(self._balance(self.customer), 100.0)

    @mute_logger("odoo.http")
    def test_nobody_else_pays(self):
        self._collection_top_up(self.customer, 100.0)
        invoice = self._make_invoice(self.customer, 50.0)
        invoice._portal_ensure_token()
        # Another customer, logged in.
        self._login(self.other_portal_user)
        self.assertEqual(self._pay(invoice).status_code, 404)
        # ... or with a wrong token, or the token of another invoice.
        other_invoice = self._make_invoice(self.other_customer, 10.0)
        other_invoice._portal_ensure_token()
        self.authenticate(None, None)
        self.assertEqual(self._pay(invoice, access_token="wrong").status_code, 404)
        self.assertEqual(
            self._pay(invoice, access_token=other_invoice.access_token).status_code, 404
        )
        self.assertEqual(self._pay(invoice).status_code, 404)
        # An unknown invoice.
        self._login()
        response = self.url_open(
            "/my/invoices/999999999/pay_with_wallet",
            data={"csrf_token": http.Request.csrf_token(self)},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 404)
        # The customer, without the CSRF token.
        self.assertEqual(self._pay(invoice, csrf=False).status_code, 400)
        # A GET does nothing.
        response = self.url_open(
            f"/my/invoices/{invoice.id}/pay_with_wallet", allow_redirects=False
        )
        self.assertEqual(response.status_code, 405)
        self.assertEqual(invoice.amount_residual, 50.0)
        self.assertEqual(self._balance(self.customer), 100.0)

    def test_the_wallet_is_not_shown_to_another_customer(self):
        """Atelier Dupont opening Boulangerie Martin's invoice with its link sees
        no wallet of its own on it, and Martin's balance is not offered to
        pay Dupont's invoice."""
        self._collection_top_up(self.customer, 100.0)
        other_invoice = self._make_invoice(self.other_customer, 20.0)
        self._login()
        response = self.url_open(
            f"/my/invoices/{other_invoice.id}", allow_redirects=False
        )
        # Core's invoice page sends other customers away.
        self.assertNotEqual(response.status_code, 200)
        self._login(self.other_portal_user)
        page = self._page(other_invoice.get_portal_url())
        self.assertFalse(page.xpath(PAY_FORM))
        self.assertNotIn("100.00", page.text_content())


@tagged("post_install", "-at_install")
class TestWalletPhoneTour(WalletPortalCommon, HttpCase):
    browser_size = "375x667"
    touch_enabled = True

    def test_customer_pays_with_the_wallet_on_a_phone(self):
        self._collection_top_up(self.customer, 60.0)
        invoice = self._make_invoice(self.customer, 100.0)
        self.start_tour(
            f"/my/invoices/{invoice.id}",
            "account_payment_collection_wallet_pay",
            login=self.portal_user.login,
        )
        self.env.invalidate_all()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 40.0)
        self.assertEqual(len(self._wallet_entries(invoice)), 1)
        self.assertEqual(self._balance(self.customer), 0.0)
