# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon


@tagged("post_install", "-at_install")
class TestOfflineChequeTour(AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The accountant of the test company (created by AccountTestInvoicingCommon
        # with the groups account.group_account_manager and group_account_user).
        cls.accountant = cls.env.user
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Tour Cheque Customer",
                "is_company": True,
                "customer_rank": 1,
                "email": "tour.cheque.customer@example.com",
            }
        )
        cls.tour_product = cls._create_product(
            name="Tour Cheque Service",
            type="service",
            lst_price=250.0,
            taxes_id=[],
        )
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.cheque_line = cls.env["account.payment.method.line"].search(
            [
                ("journal_id", "=", cls.bank_journal.id),
                ("offline_payment_type", "=", "cheque"),
            ]
        )

    def test_offline_cheque_tour(self):
        self.assertTrue(
            self.accountant.has_group("account.group_account_invoice"),
            "the tour must run as an accountant",
        )
        self.assertEqual(
            len(self.cheque_line),
            1,
            "the company's bank journal has exactly one offline Cheque method",
        )
        self.assertFalse(self.customer.collection_mode)

        self.start_tour(
            "/odoo",
            "account_payment_collection_offline_cheque",
            login=self.accountant.login,
        )

        customer = self.customer.with_company(self.company_data["company"])
        customer.invalidate_recordset()
        # How the customer pays.
        self.assertEqual(customer.collection_mode, "offline")
        self.assertEqual(
            customer.property_inbound_payment_method_line_id, self.cheque_line
        )
        self.assertEqual(
            customer.property_inbound_payment_method_line_id.offline_payment_type,
            "cheque",
        )
        self.assertEqual(customer.collection_summary, "Offline: Cheque")
        # The change is traced in the customer's chatter.
        tracking_values = customer.message_ids.tracking_value_ids
        mode_tracking = tracking_values.filtered(
            lambda t: t.field_id.name == "collection_mode"
        )
        self.assertTrue(mode_tracking, "the mode change is tracked in the chatter")
        self.assertEqual(mode_tracking[:1].new_value_char, "Offline")
        self.assertTrue(
            tracking_values.filtered(
                lambda t: t.field_id.name == "property_inbound_payment_method_line_id"
            ),
            "the payment method change is tracked in the chatter",
        )
        self.assertEqual(
            mode_tracking[:1].mail_message_id.author_id, self.accountant.partner_id
        )

        # The invoice created in the tour, posted and paid by cheque.
        invoice = self.env["account.move"].search(
            [("partner_id", "=", customer.id), ("move_type", "=", "out_invoice")]
        )
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.company_id, self.company_data["company"])
        self.assertEqual(invoice.preferred_payment_method_line_id, self.cheque_line)
        self.assertEqual(invoice.amount_total, 250.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        payment = invoice.matched_payment_ids
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.payment_method_line_id, self.cheque_line)
        self.assertEqual(payment.journal_id, self.bank_journal)
        self.assertEqual(payment.amount, 250.0)
        self.assertEqual(payment.partner_id, customer)
