# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import freeze_time, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-12-15")
class TestAutomaticCollection(CollectionCommon):
    def test_due_invoice_debited_once_and_paid(self):
        self._set_automatic(self.customer)
        due = self._make_invoice(self.customer, amount=199.99, due_date="2026-12-15")
        not_due = self._make_invoice(self.customer, due_date="2026-12-16")
        self.assertEqual(due.collection_state, "scheduled")

        self.env["account.move"]._cron_collection_send_due()
        self.env["account.move"]._cron_collection_send_due()  # a second run

        self.assertEqual(due.collection_state, "debited")
        self.assertEqual(len(due.transaction_ids), 1)
        tx = due.transaction_ids
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.amount, 199.99)
        self.assertEqual(tx.token_id, self.token)
        self.assertEqual(tx.operation, "offline")
        self.assertEqual(due.payment_state, "paid")
        self.assertEqual(tx.payment_id.amount, 199.99)
        self.assertEqual(not_due.collection_state, "scheduled")
        self.assertFalse(not_due.transaction_ids)

    def test_failed_debit_is_reported(self):
        declined = self._create_collection_token(self.customer, state="error")
        self._set_automatic(self.customer, declined)
        invoice = self._make_invoice(self.customer, due_date="2026-12-01")
        self.env["account.move"]._cron_collection_send_due()
        self.assertEqual(invoice.collection_state, "failed")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertTrue(
            any("failed" in body for body in invoice.message_ids.mapped("body"))
        )
        # The customer is told, with a link to pay online.
        mail = invoice.message_ids.filtered(
            lambda m: "did not go through" in (m.subject or "")
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(f"/my/invoices/{invoice.id}", mail.body)

    def test_archived_token_stops_the_debit(self):
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer, due_date="2026-12-01")
        self.token.active = False
        self.env["account.move"]._cron_collection_send_due()
        self.assertEqual(invoice.collection_state, "stopped")
        self.assertFalse(invoice.transaction_ids)

    def test_invoice_paid_before_due_date_is_not_debited(self):
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer, due_date="2026-12-01")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({}).action_create_payments()
        self.env["account.move"]._cron_collection_send_due()
        self.assertFalse(invoice.transaction_ids)
        self.assertFalse(invoice.collection_state)
