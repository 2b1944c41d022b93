# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged

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

    def test_automatic_without_token_refused_with_guidance(self):
        with self.assertRefused(ValidationError, "Save my payment details"):
            self.customer.write({"collection_mode": "automatic"})
        self._reread()
        self.assertFalse(self.customer.collection_mode)

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
        self.assertEqual(due.collection_state, "sent")

        self._set_offline(self.customer, self.transfer_line)

        self.assertEqual(
            due.collection_state, "sent", "an already sent debit is not touched"
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

    def test_customer_list_filters_and_groups(self):
        Partner = self.env["res.partner"]
        self._set_offline(self.customer)
        self._set_offline(self.other_customer, self.cash_line)
        domain_cheque = [
            ("collection_mode", "=", "offline"),
            (
                "property_inbound_payment_method_line_id.offline_payment_type",
                "=",
                "cheque",
            ),
        ]
        self.assertEqual(
            Partner.search(domain_cheque + [("is_company", "=", True)]), self.customer
        )
        self.assertIn(self.contact, Partner.search(domain_cheque))
        groups = Partner._read_group(
            [("id", "in", (self.customer | self.other_customer).ids)],
            ["collection_mode"],
            ["__count"],
        )
        self.assertEqual(groups, [("offline", 2)])
        self.assertEqual(
            Partner.search([("collection_summary", "ilike", "Cash")]),
            self.other_customer,
        )
