# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import freeze_time, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestInvoiceSending(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "collection_cheque_payee": "Boulangeries Réunies SAS",
                "collection_cheque_address": "Service comptabilité\nBP 42\n69001 Lyon",
                "collection_cash_instructions": "Accueil du siège, lundi à vendredi",
            }
        )
        cls.bank_account = cls.env["res.partner.bank"].create(
            {
                "acc_number": "FR76 3000 6000 0112 3456 7890 189",
                "partner_id": cls.company.partner_id.id,
                "bank_id": cls.env["res.bank"]
                .create({"name": "Banque", "bic": "AGRIFRPP"})
                .id,
            }
        )
        cls.company_data["default_journal_bank"].bank_account_id = cls.bank_account

    def _render_pdf_html(self, invoice):
        html, _type = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", invoice.ids
        )
        return html.decode()

    def test_cheque_instructions_on_pdf_and_email(self):
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer, amount=250.0)
        instructions = invoice._collection_get_payment_instructions()
        self.assertEqual(instructions["title"], "Pay by cheque")
        self.assertEqual(
            instructions["lines"],
            [
                ("Payment method", "Cheque"),
                ("Payable to", "Boulangeries Réunies SAS"),
                ("Send it to", "Service comptabilité\nBP 42\n69001 Lyon"),
                ("Write on the back", invoice.payment_reference),
            ],
        )
        html = self._render_pdf_html(invoice)
        self.assertIn("Pay by cheque", html)
        self.assertIn("Boulangeries Réunies SAS", html)
        self.assertIn("BP 42", html)
        template = invoice._get_mail_template()
        self.assertEqual(
            template,
            self.env.ref("account_payment_collection.mail_template_offline_invoice"),
        )
        body = template._render_field("body_html", invoice.ids)[invoice.id]
        self.assertIn("Pay by cheque", body)
        self.assertIn("Boulangeries Réunies SAS", body)

    def test_transfer_instructions_use_the_journal_bank_account(self):
        """An IBAN is called an IBAN, printed in groups of four, with the BIC and
        the bank of the account; the holder is the account's holder."""
        self._set_offline(self.customer, self.transfer_line)
        invoice = self._make_invoice(self.customer)
        instructions = invoice._collection_get_payment_instructions()
        self.assertEqual(instructions["title"], "Pay by bank transfer")
        self.assertEqual(
            instructions["lines"],
            [
                ("Payment method", "Bank transfer"),
                ("Account holder", self.company.name),
                ("IBAN", "FR76 3000 6000 0112 3456 7890 189"),
                ("BIC", "AGRIFRPP"),
                ("Bank", "Banque"),
                ("Reference", invoice.payment_reference),
            ],
        )
        html = self._render_pdf_html(invoice)
        self.assertIn("FR76 3000 6000 0112 3456 7890 189", html)
        self.assertIn("AGRIFRPP", html)

    def test_transfer_instructions_for_an_account_that_is_not_an_iban(self):
        """A national account number is an "Account number", never an "IBAN";
        a bank without BIC prints no BIC line; the holder name of the account
        wins over its partner's name."""
        account = self.env["res.partner.bank"].create(
            {
                "acc_number": "000123456789",
                "acc_holder_name": "Boulangeries Réunies - Trésorerie",
                "partner_id": self.company.partner_id.id,
                "bank_id": self.env["res.bank"].create({"name": "Caisse locale"}).id,
            }
        )
        self.company_data["default_journal_bank"].bank_account_id = account
        self._set_offline(self.customer, self.transfer_line)
        invoice = self._make_invoice(self.customer)
        lines = invoice._collection_get_payment_instructions()["lines"]
        self.assertEqual(
            lines,
            [
                ("Payment method", "Bank transfer"),
                ("Account holder", "Boulangeries Réunies - Trésorerie"),
                ("Account number", "000123456789"),
                ("Bank", "Caisse locale"),
                ("Reference", invoice.payment_reference),
            ],
        )
        labels = [label for label, _value in lines]
        self.assertNotIn("IBAN", labels)
        self.assertNotIn("BIC", labels)
        html = self._render_pdf_html(invoice)
        self.assertIn("Account number", html)
        self.assertNotIn(">IBAN<", html)

    def test_cash_and_money_order_instructions(self):
        self._set_offline(self.customer, self.cash_line)
        invoice = self._make_invoice(self.customer)
        lines = dict(invoice._collection_get_payment_instructions()["lines"])
        self.assertEqual(lines["Where"], "Accueil du siège, lundi à vendredi")
        self._set_offline(self.customer, self.money_order_line)
        invoice = self._make_invoice(self.customer)
        instructions = invoice._collection_get_payment_instructions()
        self.assertEqual(instructions["title"], "Pay by money order")
        self.assertEqual(dict(instructions["lines"])["Payable to"], self.company.name)

    def test_no_instructions_unless_offline(self):
        invoice = self._make_invoice(self.other_customer)
        self.assertEqual(invoice._collection_get_payment_instructions(), {})
        self.assertEqual(
            invoice._get_mail_template(),
            self.env.ref("account.email_template_edi_invoice"),
        )
        self.assertNotIn(
            "o_account_payment_collection_instructions", self._render_pdf_html(invoice)
        )
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer)
        self.assertEqual(invoice._collection_get_payment_instructions(), {})

    def test_paid_invoice_pdf_has_no_instructions(self):
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({}).action_create_payments()
        self.assertNotIn(
            "o_account_payment_collection_instructions", self._render_pdf_html(invoice)
        )

    def test_auto_send_on_post_through_standard_sending(self):
        self.company.collection_auto_send_offline = True
        # The customer's own preference says "download": the agreement wins.
        self.customer.invoice_sending_method = "manual"
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer, amount=480.0)
        self.assertTrue(invoice.sending_data)
        self.assertIn("Queued for automatic sending", invoice.message_ids[0].body)

        self.env["account.move"]._cron_account_move_send(job_count=10)

        self.assertTrue(invoice.is_move_sent)
        self.assertFalse(invoice.sending_data)
        sent = invoice.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertTrue(sent)
        self.assertIn(self.customer, sent.partner_ids)
        self.assertIn("Pay by cheque", sent.body)
        self.assertTrue(invoice.invoice_pdf_report_id)
        self.assertIn(
            invoice.invoice_pdf_report_id.name, sent.attachment_ids.mapped("name")
        )
        # Sent once: running the job again sends nothing more.
        self.env["account.move"]._cron_account_move_send(job_count=10)
        self.assertEqual(
            len(invoice.message_ids.filtered(lambda m: m.message_type == "comment")), 1
        )

    def test_no_auto_send_when_off_or_not_offline_or_no_email(self):
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer)
        self.assertFalse(invoice.sending_data)

        self.company.collection_auto_send_offline = True
        not_offline = self._make_invoice(self.other_customer)
        self.assertFalse(not_offline.sending_data)

        self._set_offline(self.other_customer)
        self.other_customer.email = False
        no_email = self._make_invoice(self.other_customer)
        self.assertFalse(no_email.sending_data)
        self.assertIn("has no e-mail address", no_email.message_ids[0].body)

    def test_register_payment_prefilled_with_the_customer_method(self):
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.contact, amount=320.0)
        self.assertEqual(invoice.preferred_payment_method_line_id, self.cheque_line)
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        self.assertEqual(wizard.journal_id, self.company_data["default_journal_bank"])
        self.assertEqual(wizard.payment_method_line_id, self.cheque_line)
        payment = wizard._create_payments()
        self.assertEqual(payment.payment_method_line_id, self.cheque_line)
        self.assertEqual(payment.amount, 320.0)
        self.assertEqual(invoice.payment_state, "paid")

    @freeze_time("2026-12-15")
    def test_offline_invoices_are_never_debited(self):
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer, due_date="2026-12-01")
        self.assertFalse(invoice.collection_state)
        self.env["account.move"]._cron_collection_send_due()
        self.assertFalse(invoice.transaction_ids)
        self.assertEqual(invoice.payment_state, "not_paid")
