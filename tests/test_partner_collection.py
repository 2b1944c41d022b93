# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestPartnerCollection(CollectionCommon):
    def test_offline_cheque_shown_and_followed_by_contacts(self):
        self._set_offline(self.customer)
        self.assertEqual(self.customer.collection_mode, "offline")
        self.assertEqual(self.customer.collection_offline_payment_type, "cheque")
        self.assertEqual(self.customer.collection_summary, "Offline: Cheque")
        # Contacts pay like their company.
        self.assertEqual(self.contact.collection_mode, "offline")
        self.assertEqual(
            self.contact.property_inbound_payment_method_line_id, self.cheque_line
        )
        # The chatter tracking of these changes is checked by the tour test, which
        # makes them through the web client with tracking enabled.
        # New contacts follow too.
        new_contact = self.env["res.partner"].create(
            {"name": "Paul Martin", "parent_id": self.customer.id}
        )
        self.assertEqual(new_contact.collection_mode, "offline")
        self.assertEqual(
            new_contact.property_inbound_payment_method_line_id, self.cheque_line
        )

    def test_offline_needs_an_offline_method(self):
        manual_line = self.company_data[
            "default_journal_bank"
        ].inbound_payment_method_line_ids.filtered(
            lambda line: not line.offline_payment_type and not line.payment_provider_id
        )[:1]
        with self.assertRefused(ValidationError, "pays offline: choose how"):
            self.customer.write({"collection_mode": "offline"})
        with self.assertRefused(ValidationError, "pays offline: choose how"):
            self.customer.write(
                {
                    "collection_mode": "offline",
                    "property_inbound_payment_method_line_id": manual_line.id,
                }
            )
        self._reread()
        self.assertFalse(self.customer.collection_mode)
        self.assertFalse(self.contact.collection_mode)

    def test_automatic_without_token_is_registration_pending(self):
        self._set_offline(self.customer, self.cheque_line)
        self.customer.write({"collection_mode": "automatic"})
        self._reread()
        self.assertEqual(self.customer.collection_mode, "automatic")
        self.assertTrue(self.customer.collection_registration_pending)
        self.assertEqual(
            self.customer.collection_summary, "Automatic: registration pending"
        )
        # Until a card or mandate is saved, invoices are not debited: the
        # customer keeps paying as before (the cheque instructions).
        invoice = self._make_invoice(self.customer, due_date="2026-11-01")
        self.assertFalse(invoice.collection_state)
        self.assertEqual(invoice.preferred_payment_method_line_id, self.cheque_line)
        self.env["account.move"]._cron_collection_send_due()
        self.assertFalse(invoice.transaction_ids)
        self._set_automatic(self.customer)
        self.assertFalse(self.customer.collection_registration_pending)

    def test_automatic_token_must_be_usable(self):
        foreign_token = self._create_collection_token(self.other_customer)
        with self.assertRefused(ValidationError, "belongs to another customer"):
            self._set_automatic(self.customer, foreign_token)
        archived = self._create_collection_token(self.customer, provider_ref="old")
        archived.active = False
        with self.assertRefused(ValidationError, "archived"):
            self._set_automatic(self.customer, archived)
        # Disabling a provider archives its tokens: none of them can be used.
        self.demo_provider.state = "disabled"
        with self.assertRefused(ValidationError, "cannot be used to collect"):
            self._set_automatic(self.customer)
        self._reread()
        self.assertFalse(self.customer.collection_mode)
        self.assertFalse(self.customer.collection_token_id)
        self.demo_provider.state = "test"
        # A token saved by a contact of the customer is the customer's.
        contact_token = self._create_collection_token(
            self.contact, provider_ref="contact"
        )
        self._set_automatic(self.customer, contact_token)
        self.assertEqual(self.customer.collection_mode, "automatic")
        self.assertEqual(self.contact.collection_token_id, contact_token)
        self.assertEqual(
            self.customer.collection_summary, f"Automatic: {contact_token.display_name}"
        )

    def test_contact_cannot_pay_differently_from_its_company(self):
        self._set_offline(self.customer)
        with self.assertRefused(ValidationError, "pays like Boulangerie Martin"):
            self.contact.write(
                {"property_inbound_payment_method_line_id": self.transfer_line.id}
            )
        self._reread()
        self.assertEqual(
            self.contact.property_inbound_payment_method_line_id, self.cheque_line
        )

    @freeze_time("2026-11-21")
    def test_switch_to_offline_stops_unsent_debits(self):
        self._set_automatic(self.customer)
        due = self._make_invoice(self.customer, due_date="2026-11-20")
        later = self._make_invoice(self.contact, due_date="2026-12-20")
        later_too = self._make_invoice(self.customer, due_date="2026-12-31")
        self.assertEqual(
            (due | later | later_too).mapped("collection_state"), ["scheduled"] * 3
        )
        self.env["account.move"]._cron_collection_send_due()
        self.assertEqual(due.collection_state, "debited")

        self._set_offline(self.customer, self.transfer_line)

        self.assertEqual(
            due.collection_state, "debited", "an already sent debit is not touched"
        )
        self.assertEqual(
            (later | later_too).mapped("collection_state"), ["stopped"] * 2
        )
        self.assertIn(
            f"2 debit(s) not sent yet were cancelled ({later.name}, {later_too.name})",
            self.customer.message_ids[0].body,
        )
        self.assertIn("now pays offline", later.message_ids[0].body)
        # Nothing left to debit, whatever the date.
        with freeze_time("2027-02-01"):
            self.env["account.move"]._cron_collection_send_due()
        self.assertFalse(later.transaction_ids | later_too.transaction_ids)
        # The open invoices now carry the new method.
        self.assertEqual(later.preferred_payment_method_line_id, self.transfer_line)

    def test_switch_to_offline_with_nothing_pending_says_so(self):
        self._set_automatic(self.customer)
        self._set_offline(self.customer)
        self.assertIn("no debit was waiting", self.customer.message_ids[0].body)

    def test_method_change_carried_to_open_invoices_only(self):
        self._set_offline(self.customer)
        open_invoice = self._make_invoice(self.customer)
        paid_invoice = self._make_invoice(self.customer)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid_invoice.ids
        ).create({}).action_create_payments()
        self.assertEqual(paid_invoice.payment_state, "paid")
        self._set_offline(self.customer, self.cash_line)
        self.assertEqual(open_invoice.preferred_payment_method_line_id, self.cash_line)
        self.assertEqual(
            paid_invoice.preferred_payment_method_line_id, self.cheque_line
        )

    def _get_filter_domains(self, model, view_xmlid):
        """Return the filters of a search view as ``{name: domain}``."""
        view = self.env.ref(view_xmlid)
        arch = self.env[model].get_views([(view.id, "search")])["views"]["search"][
            "arch"
        ]
        return {
            node.get("name"): node.get("domain")
            for node in etree.fromstring(arch).iterfind(".//filter")
        }

    def _create_customers(self, *names):
        return self.env["res.partner"].create(
            [{"name": name, "is_company": True} for name in names]
        )

    def test_customer_list_filters_and_groups(self):
        Partner = self.env["res.partner"]
        self._set_offline(self.customer)
        self._set_offline(self.other_customer, self.cash_line)
        other_line = (
            self.env["account.payment.method.line"]
            .with_context(default_payment_type="inbound")
            .create(
                {
                    "name": "Lyon office counter",
                    "offline_payment_type": "other",
                    "journal_id": self.company_data["default_journal_bank"].id,
                }
            )
        )
        by_transfer, by_money_order, by_other, automatic, unset = (
            self._create_customers(
                "Transfer Co", "Money Order Co", "Other Co", "Automatic Co", "Unset Co"
            )
        )
        self._set_offline(by_transfer, self.transfer_line)
        self._set_offline(by_money_order, self.money_order_line)
        self._set_offline(by_other, other_line)
        self._set_automatic(automatic, self._create_collection_token(automatic))
        everyone = (
            self.customer
            | self.contact
            | self.other_customer
            | by_transfer
            | by_money_order
            | by_other
            | automatic
            | unset
        )
        # The add-on's filters of the customer list, as the web client reads them.
        filters = self._get_filter_domains(
            "res.partner", "base.view_res_partner_filter"
        )
        expected = {
            "collection_cheque": self.customer | self.contact,
            "collection_transfer": by_transfer,
            "collection_cash": self.other_customer,
            "collection_money_order": by_money_order,
            "collection_other": by_other,
            "collection_automatic": automatic,
        }
        for name, partners in expected.items():
            with self.subTest(filter=name):
                self.assertIn(name, filters)
                self.assertEqual(
                    Partner.search(
                        safe_eval(filters[name]) + [("id", "in", everyone.ids)]
                    ),
                    partners,
                )
        # Its group-bys, on how customers pay and with which method.
        view = self.env.ref("base.view_res_partner_filter")
        arch = Partner.get_views([(view.id, "search")])["views"]["search"]["arch"]
        group_bys = {
            node.get("name"): safe_eval(node.get("context")).get("group_by")
            for node in etree.fromstring(arch).iterfind(".//filter[@context]")
        }
        self.assertEqual(group_bys["group_collection_mode"], "collection_mode")
        self.assertEqual(
            group_bys["group_collection_method"],
            "property_inbound_payment_method_line_id",
        )
        groups = Partner._read_group(
            [("id", "in", everyone.ids)], ["collection_mode"], ["__count"]
        )
        self.assertEqual(dict(groups), {False: 1, "automatic": 1, "offline": 6})
        groups = Partner._read_group(
            [("id", "in", everyone.ids)],
            ["property_inbound_payment_method_line_id"],
            ["id:recordset"],
        )
        self.assertEqual(dict(groups)[self.cheque_line], self.customer | self.contact)
        self.assertEqual(dict(groups)[other_line], by_other)

    def _prepare_summary_customers(self):
        """Customers paying by cheque (with its contact), by transfer,
        automatically, and one in no set way.

        :return: ``(cheque, transfer, automatic, unset)``; ``cheque`` includes the
                 contact
        """
        transfer, automatic, unset = self._create_customers(
            "Transfer Co", "Automatic Co", "Unset Co"
        )
        self._set_offline(self.customer)
        self._set_offline(transfer, self.transfer_line)
        self._set_automatic(automatic, self._create_collection_token(automatic))
        return self.customer | self.contact, transfer, automatic, unset

    def _search_summary(self, partners, operator, value, lang=None):
        Partner = self.env["res.partner"].with_context(lang=lang or "en_US")
        return Partner.search(
            [("collection_summary", operator, value), ("id", "in", partners.ids)]
        )

    def test_pays_by_column_searched_with_every_operator(self):
        """Searching the "Pays By" column finds what it shows, with every operator
        of the web client and of the API, as if the label were stored."""
        cheque, transfer, automatic, unset = self._prepare_summary_customers()
        everyone = cheque | transfer | automatic | unset
        token_label = f"Automatic: {automatic.collection_token_id.display_name}"
        self.assertEqual(
            everyone.mapped("collection_summary"),
            [
                "Offline: Cheque",
                "Offline: Cheque",
                "Offline: Bank transfer",
                token_label,
                False,
            ],
        )
        none = everyone.browse()
        cases = [
            # The words shown, typed in the search bar.
            ("ilike", "offline", cheque | transfer),
            ("ilike", "Offline: Cheque", cheque),
            ("ilike", "automatic", automatic),
            ("ilike", "cheque", cheque),
            ("ilike", "4242", automatic),
            ("ilike", "off%cheq", cheque),
            ("ilike", "", everyone),
            ("not ilike", "offline", automatic | unset),
            ("not ilike", "CHEQUE", transfer | automatic | unset),
            ("=", "Offline: Cheque", cheque),
            ("=", "offline: cheque", none),
            ("=", "Offline", none),
            ("!=", "Offline: Cheque", transfer | automatic | unset),
            # "Is set" and "is not set".
            ("=", False, unset),
            ("!=", False, cheque | transfer | automatic),
            ("in", ["Offline: Cheque", token_label], cheque | automatic),
            ("in", ["Offline: Cheque", False], cheque | unset),
            ("in", ["Offline"], none),
            ("in", [], none),
            ("not in", ["Offline: Cheque"], transfer | automatic | unset),
            ("not in", ["Offline: Cheque", False], transfer | automatic),
            ("=like", "Offline:%", cheque | transfer),
            ("=like", "offline:%", none),
            ("=ilike", "offline:%", cheque | transfer),
            ("=ilike", "offline", none),
            ("like", "Cheque", cheque),
            ("like", "cheque", none),
            ("like", "Offline: _heque", cheque),
            ("not like", "Cheque", transfer | automatic | unset),
            ("=?", False, everyone),
            ("=?", "Offline: Cheque", cheque),
        ]
        for operator, value, expected in cases:
            with self.subTest(operator=operator, value=value):
                self.assertEqual(
                    self._search_summary(everyone, operator, value), expected
                )
        # A negated term is the complement of the term.
        self.assertEqual(
            self.env["res.partner"].search(
                ["!", ("collection_summary", "ilike", "offline")]
                + [("id", "in", everyone.ids)]
            ),
            automatic | unset,
        )
        with self.assertRaises(UserError):
            self._search_summary(everyone, "<", "Offline")

    def test_pays_by_column_searched_as_shown(self):
        """The search follows the label shown: in the user's language, in the
        current company, and for a token archived since it was chosen."""
        cheque, transfer, automatic, unset = self._prepare_summary_customers()
        everyone = cheque | transfer | automatic | unset
        self.env["res.lang"]._activate_lang("fr_FR")
        self.assertEqual(self.customer.collection_summary, "Offline: Cheque")
        self.assertEqual(
            self.customer.with_context(lang="fr_FR").collection_summary,
            "Hors ligne : Cheque",
        )
        for operator, value, expected in [
            ("ilike", "hors ligne", cheque | transfer),
            ("=", "Hors ligne : Cheque", cheque),
            ("ilike", "automatique", automatic),
            ("ilike", "offline", self.env["res.partner"]),
            ("not ilike", "hors ligne", automatic | unset),
        ]:
            with self.subTest(operator=operator, value=value):
                self.assertEqual(
                    self._search_summary(everyone, operator, value, lang="fr_FR"),
                    expected,
                )

        # A token archived since: still shown, still found.
        automatic.collection_token_id.active = False
        self.assertTrue(automatic.collection_summary.startswith("Automatic: "))
        self.assertEqual(
            self._search_summary(everyone, "ilike", "automatic"), automatic
        )

        # Another company: the customer pays cash there, by cheque here.
        other_company = self.setup_other_company(name="Collection Paris")["company"]
        cash_b = self.env["account.payment.method.line"].search(
            [
                ("company_id", "=", other_company.id),
                ("offline_payment_type", "=", "cash"),
            ]
        )
        customer_b = self.customer.with_company(other_company)
        self._set_offline(customer_b, cash_b)
        self.assertEqual(customer_b.collection_summary, "Offline: Cash")
        Partner_b = self.env["res.partner"].with_company(other_company)
        domain = [("id", "in", everyone.ids)]
        self.assertEqual(
            Partner_b.search([("collection_summary", "ilike", "cash")] + domain),
            cheque,
        )
        self.assertFalse(
            Partner_b.search([("collection_summary", "ilike", "cheque")] + domain)
        )
        self.assertEqual(
            Partner_b.search([("collection_summary", "=", False)] + domain),
            transfer | automatic | unset,
        )
        self.assertEqual(
            self._search_summary(everyone, "ilike", "cash"), self.env["res.partner"]
        )

    def test_pays_by_column_in_the_search_bar(self):
        """Typing in the customer list's search bar proposes "Pays By"."""
        self._set_offline(self.other_customer, self.cash_line)
        view = self.env.ref("base.view_res_partner_filter")
        arch = self.env["res.partner"].get_views([(view.id, "search")])["views"][
            "search"
        ]["arch"]
        [field] = etree.fromstring(arch).iterfind(
            ".//field[@name='collection_summary']"
        )
        self.assertFalse(field.get("operator"))  # ilike, the default
        self.assertEqual(
            self.env["res.partner"].search([("collection_summary", "ilike", "Cash")]),
            self.other_customer,
        )
