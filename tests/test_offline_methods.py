# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestOfflineMethods(CollectionCommon):
    def test_new_company_gets_default_offline_methods(self):
        """The test company is created after install: it still gets the four
        default methods, on its bank journal and its cash journal."""
        bank = self.company_data["default_journal_bank"]
        cash = self.company_data["default_journal_cash"]
        manual_in = self.env.ref("account.account_payment_method_manual_in")
        self.assertEqual(self.cheque_line.journal_id, bank)
        self.assertEqual(self.transfer_line.journal_id, bank)
        self.assertEqual(self.money_order_line.journal_id, bank)
        self.assertEqual(self.cash_line.journal_id, cash)
        for line in (
            self.cheque_line
            | self.transfer_line
            | self.money_order_line
            | self.cash_line
        ):
            self.assertEqual(line.payment_method_id, manual_in)
            self.assertEqual(line.payment_type, "inbound")
        self.assertEqual(self.cheque_line.name, "Cheque")

    def test_other_company_gets_its_own_methods(self):
        other = self.setup_other_company(name="Collection Lyon")["company"]
        lines = self.env["account.payment.method.line"].search(
            [("company_id", "=", other.id), ("offline_payment_type", "!=", False)]
        )
        self.assertEqual(
            sorted(lines.mapped("offline_payment_type")),
            ["cash", "cheque", "money_order", "transfer"],
        )
        self.assertFalse(lines & self.cheque_line)

    def test_ensure_is_idempotent(self):
        Line = self.env["account.payment.method.line"]
        domain = [
            ("offline_payment_type", "!=", False),
            ("company_id", "=", self.company.id),
        ]
        before = Line.search_count(domain)
        self.company._collection_ensure_offline_method_lines()
        self.company._collection_ensure_offline_method_lines()
        self.assertEqual(Line.search_count(domain), before)

    def test_admin_adds_a_method(self):
        """An admin adds "Cheque to the Lyon office" from the offline methods list:
        it receives money through the manual method and customers can use it."""
        line = (
            self.env["account.payment.method.line"]
            .with_context(default_payment_type="inbound")
            .create(
                {
                    "name": "Cheque to the Lyon office",
                    "offline_payment_type": "cheque",
                    "journal_id": self.company_data["default_journal_bank"].id,
                    "collection_instructions": "Office open 9:00-17:00",
                }
            )
        )
        self.assertEqual(
            line.payment_method_id,
            self.env.ref("account.account_payment_method_manual_in"),
        )
        self._set_offline(self.customer, line)
        invoice = self._make_invoice(self.customer)
        self.assertEqual(invoice.preferred_payment_method_line_id, line)
        self.assertEqual(
            invoice._collection_get_payment_instructions()["note"],
            "Office open 9:00-17:00",
        )

    @mute_logger("odoo.sql_db")
    def test_offline_type_refused_on_outgoing_or_provider_methods(self):
        Line = self.env["account.payment.method.line"]
        outbound = self.company_data[
            "default_journal_bank"
        ].outbound_payment_method_line_ids[:1]
        with self.assertRefused(ValidationError, "only methods that receive money"):
            outbound.offline_payment_type = "cheque"
        self._reread()
        self.assertFalse(outbound.offline_payment_type)
        provider_line = Line.search(
            [
                ("payment_provider_id", "!=", False),
                ("company_id", "=", self.company.id),
            ],
            limit=1,
        )
        if provider_line:
            with self.assertRefused(ValidationError, "online payment provider"):
                provider_line.offline_payment_type = "cash"
            self._reread()
            self.assertFalse(provider_line.offline_payment_type)

    def test_settings_show_the_fallbacks_as_placeholders(self):
        """Empty payees and addresses show what the invoices print instead: the
        company name, and its address on several lines."""
        self.company.write(
            {
                "name": "Boulangeries Réunies",
                "street": "8 rue de la République",
                "zip": "69002",
                "city": "Lyon",
                "country_id": self.env.ref("base.fr").id,
            }
        )
        settings = (
            self.env["res.config.settings"]
            .with_company(self.company)
            .with_context(allowed_company_ids=self.company.ids)
            .create({})
        )
        self.assertEqual(settings.company_name, "Boulangeries Réunies")
        address = "Boulangeries Réunies\n8 rue de la République\n69002 Lyon\nFrance"
        self.assertEqual(settings.collection_mailing_address, address)
        arch = settings.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("'placeholder_field': 'company_name'", arch)
        self.assertIn("'placeholder_field': 'collection_mailing_address'", arch)
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer)
        lines = dict(invoice._collection_get_payment_instructions()["lines"])
        self.assertEqual(lines["Payable to"], "Boulangeries Réunies")
        self.assertEqual(lines["Send it to"], address)
