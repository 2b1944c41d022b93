# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestTranslations(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["account_payment_collection"], ["fr_FR"], overwrite=True
        )

    def test_refusals_are_translated(self):
        customer_fr = self.customer.with_context(lang="fr_FR")
        with self.assertRefused(ValidationError, "Chèque|chèque|virement"):
            customer_fr.write({"collection_mode": "offline"})
        foreign_token = self._create_collection_token(self.other_customer)
        with self.assertRefused(ValidationError, "autre client"):
            customer_fr.write(
                {
                    "collection_mode": "automatic",
                    "collection_token_id": foreign_token.id,
                }
            )
        self.assertFalse(self.customer.collection_mode)

    def test_labels_and_instructions_are_translated(self):
        modes = dict(
            self.env["res.partner"]
            .with_context(lang="fr_FR")
            ._selection_collection_mode()
        )
        self.assertEqual(modes["offline"], "Hors ligne")
        self.customer.lang = "fr_FR"
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer)
        self.assertEqual(
            invoice._collection_get_payment_instructions()["title"], "Payer par chèque"
        )

    def _offline_lines(self, company):
        lines = self.env["account.payment.method.line"].search(
            [("offline_payment_type", "!=", False), ("company_id", "=", company.id)]
        )
        return {line.offline_payment_type: line for line in lines}

    def test_default_method_names_are_translated(self):
        """The methods the add-on created before French was loaded read in
        French for a French user and in English for an English one."""
        expected = {
            "cheque": ("Cheque", "Chèque"),
            "transfer": ("Bank transfer", "Virement bancaire"),
            "cash": ("Cash", "Espèces"),
            "money_order": ("Money order", "Mandat"),
        }
        lines = self._offline_lines(self.company)
        for payment_type, (english, french) in expected.items():
            line = lines[payment_type]
            self.assertEqual(line.with_context(lang="en_US").name, english)
            self.assertEqual(line.with_context(lang="fr_FR").name, french)
        self.assertEqual(
            self.cheque_line.with_context(lang="fr_FR").display_name,
            f"Chèque ({self.cheque_line.journal_id.with_context(lang='fr_FR').name})",
        )

    def test_new_company_methods_are_named_in_every_language(self):
        other = self.setup_other_company(name="Collection Lille")["company"]
        cheque = self._offline_lines(other)["cheque"]
        self.assertEqual(cheque.with_context(lang="fr_FR").name, "Chèque")
        self.assertEqual(cheque.with_context(lang="en_US").name, "Cheque")

    def test_renamed_method_keeps_its_name(self):
        """Loading the language again leaves the names the accountant gave, in
        English or in French, as they are."""
        self.cheque_line.with_context(lang="en_US").name = "Cheque to the Lyon office"
        self.transfer_line.with_context(lang="fr_FR").name = "Virement SEPA"
        self.env["ir.module.module"]._load_module_terms(
            ["account_payment_collection"], ["fr_FR"]
        )
        self.assertEqual(
            self.cheque_line.with_context(lang="en_US").name,
            "Cheque to the Lyon office",
        )
        self.assertEqual(
            self.transfer_line.with_context(lang="fr_FR").name, "Virement SEPA"
        )
        self.assertEqual(
            self.transfer_line.with_context(lang="en_US").name, "Bank transfer"
        )

    def test_french_customer_pdf_and_email_say_cheque(self):
        """A French customer's invoice PDF and e-mail carry the instructions in
        French, with the method's French name and the due date written the
        French way."""
        self.customer.lang = "fr_FR"
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer)
        instructions = invoice._collection_get_payment_instructions()
        self.assertEqual(instructions["lines"][0], ("Mode de paiement", "Chèque"))
        self.assertEqual(instructions["lines"][1][0], "À l'ordre de")
        html, _type = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", invoice.ids
        )
        html = html.decode()
        self.assertIn("Payer par chèque", html)
        self.assertIn("Chèque", html)
        self.assertNotIn("Pay by cheque", html)
        template = invoice._get_mail_template()
        body = template._render_field("body_html", invoice.ids, compute_lang=True)[
            invoice.id
        ]
        self.assertIn("Payer par chèque", body)
        self.assertIn("Chèque", body)
        self.assertIn("01/12/2026", body)
        self.assertNotIn("2026-12-01", body)

    def test_transfer_labels_in_french(self):
        self.customer.lang = "fr_FR"
        self.transfer_line.journal_id.bank_account_id = self.env[
            "res.partner.bank"
        ].create(
            {
                "acc_number": "FR7630004012340001234567862",
                "partner_id": self.company.partner_id.id,
                "bank_id": self.env["res.bank"]
                .create({"name": "BNP Paribas", "bic": "BNPAFRPP"})
                .id,
            }
        )
        self._set_offline(self.customer, self.transfer_line)
        invoice = self._make_invoice(self.customer)
        lines = dict(invoice._collection_get_payment_instructions()["lines"])
        self.assertEqual(lines["Mode de paiement"], "Virement bancaire")
        self.assertEqual(lines["IBAN"], "FR76 3000 4012 3400 0123 4567 862")
        self.assertEqual(lines["BIC"], "BNPAFRPP")
        self.assertEqual(lines["Banque"], "BNP Paribas")
        self.assertIn("Titulaire du compte", lines)
