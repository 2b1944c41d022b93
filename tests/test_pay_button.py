# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import io
import json

from freezegun import freeze_time
from PyPDF2 import PdfReader

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MailCase

from .common import CollectionCommon


class PayButtonCommon(CollectionCommon, MailCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", True
        )
        cls.demo_provider.is_published = True
        cls.transfer_line.collection_allow_online_payment = True
        cls.customer.with_company(cls.company).write(
            {
                "collection_mode": "offline",
                "property_inbound_payment_method_line_id": cls.transfer_line.id,
            }
        )

    def _send(self, invoice):
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        with self.mock_mail_gateway():
            wizard.action_send_and_print()
        return self._new_mails.filtered(lambda mail: mail.res_id == invoice.id)


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 10:00:00")
class TestPayButton(PayButtonCommon, HttpCase):
    def test_pay_button_only_where_online_payment_is_allowed(self):
        invoice = self._make_invoice(self.customer, 120.0)
        self.assertTrue(invoice._collection_show_pay_button())
        # A cheque customer keeps only the cheque instructions.
        cheque_customer = self.other_customer
        cheque_customer.with_company(self.company).write(
            {
                "collection_mode": "offline",
                "property_inbound_payment_method_line_id": self.cheque_line.id,
            }
        )
        self.assertFalse(
            self._make_invoice(cheque_customer, 50.0)._collection_show_pay_button()
        )
        # Paid, on hold, draft: no button.
        held = self._make_invoice(self.customer, 10.0)
        held.collection_block_reason = "dispute"
        self.assertFalse(held._collection_show_pay_button())
        self.assertFalse(
            self._make_invoice(
                self.customer, 10.0, post=False
            )._collection_show_pay_button()
        )
        self.transfer_line.collection_allow_online_payment = False
        self.assertFalse(invoice._collection_show_pay_button())

    def test_invoice_email_has_a_pay_button(self):
        invoice = self._make_invoice(self.customer, 120.0)
        mails = self._send(invoice)
        self.assertTrue(mails)
        body = mails[0].body_html
        url = invoice._collection_get_pay_url()
        self.assertIn(url.replace("&", "&amp;"), body)
        self.assertIn("Pay online", body)
        # The page it opens: the invoice with Odoo's payment form, for what is due.
        page = self.url_open(url[url.index("/my/") :])
        self.assertEqual(page.status_code, 200)
        self.assertIn('id="portal_pay" data-payment="True"', page.text)
        self.assertIn("o_payment_form", page.text)
        self.assertIn('data-amount="120.0"', page.text)

    def test_tampered_amounts_and_paid_invoices_are_refused(self):
        invoice = self._make_invoice(self.customer, 120.0)
        token = invoice._portal_ensure_token()
        method = self.env.ref("payment_demo.payment_method_demo")

        def pay(amount):
            params = {
                "access_token": token,
                "amount": amount,
                "provider_id": self.demo_provider.id,
                "payment_method_id": method.id,
                "token_id": None,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": invoice.get_portal_url(),
            }
            with mute_logger("odoo.http"):
                response = self.url_open(
                    f"/invoice/transaction/{invoice.id}",
                    data=json.dumps(
                        {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
                    ),
                    headers={"Content-Type": "application/json"},
                )
            return response.json()

        for amount in (0.0, -5.0, 120.01, 1e300):
            with self.subTest(amount=amount):
                answer = pay(amount)
                self.assertIn(
                    "amount to pay has changed", answer["error"]["data"]["message"]
                )
        self.assertFalse(invoice.transaction_ids)
        self.assertIn("result", pay(120.0))
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        answer = pay(120.0)
        self.assertIn("nothing left to pay", answer["error"]["data"]["message"])
        self.assertEqual(len(invoice.transaction_ids), 1)

    def test_invoice_email_without_pay_button_for_cheques(self):
        self.customer.with_company(
            self.company
        ).property_inbound_payment_method_line_id = self.cheque_line
        invoice = self._make_invoice(self.customer, 120.0)
        body = self._send(invoice)[0].body_html
        self.assertNotIn("Pay online", body)
        self.assertNotIn("portal_pay", body)

    def test_customer_without_email_is_refused(self):
        self.customer.email = False
        self.contact.email = False
        invoice = self._make_invoice(self.customer, 120.0)
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"sending_methods": ["email"]})
        )
        with self.assertRaisesRegex(UserError, "Boulangerie Martin: no e-mail address"):
            wizard.action_send_and_print()
        self.assertFalse(
            invoice.message_ids.filtered(lambda m: m.message_type == "comment")
        )


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 10:00:00")
class TestPayButtonPdf(PayButtonCommon):
    """The PDF, rendered by wkhtmltopdf, read back. Its assets are not needed
    for its text and links: wkhtmltopdf is pointed at a closed port, not at
    the tests' HTTP server, which would wait for this test's transaction."""

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "report.url", "http://127.0.0.1:1"
        )

    def test_invoice_pdf_has_the_pay_link_and_qr_code(self):
        invoice = self._make_invoice(self.customer, 120.0)
        url = invoice._collection_get_pay_url()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.account_invoices", invoice.ids)[0]
            .decode()
        )
        self.assertIn("o_account_payment_collection_pay_online", html)
        self.assertIn("data:image/png;base64,", html)
        self.assertIn(url.replace("&", "&amp;"), html)
        pdf, _type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("account.account_invoices", invoice.ids)
        )
        reader = PdfReader(io.BytesIO(pdf))
        text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
        self.assertIn("Pay online", text)
        links = [
            annotation.get_object()["/A"]["/URI"]
            for page in reader.pages
            for annotation in page.get("/Annots") or []
            if "/A" in annotation.get_object()
        ]
        self.assertIn(url, links)
        # Without online payment: none of it.
        self.customer.with_company(
            self.company
        ).property_inbound_payment_method_line_id = self.cheque_line
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.account_invoices", invoice.ids)[0]
            .decode()
        )
        self.assertNotIn("o_account_payment_collection_pay_online", html)


@tagged("post_install", "-at_install")
class TestPayButtonTour(PayButtonCommon, HttpCase):
    """The customer pays an invoice from its e-mail's Pay online button, on a
    phone."""

    browser_size = "375x667"
    touch_enabled = True

    def test_customer_pays_from_the_email_button(self):
        invoice = self._make_invoice(self.customer, 120.0)
        mails = self._send(invoice)
        url = invoice._collection_get_pay_url()
        self.assertIn(url.replace("&", "&amp;"), mails[0].body_html)
        self.start_tour(
            url[url.index("/my/") :], "account_payment_collection_invoice_pay_button"
        )
        invoice.invalidate_recordset()
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertEqual(
            len(invoice.transaction_ids.filtered(lambda tx: tx.state == "done")), 1
        )
