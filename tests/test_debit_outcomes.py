# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-12-15")
class TestDebitOutcomes(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pending_token = cls._create_collection_token(cls.customer, state="pending")
        cls.Move = cls.env["account.move"]

    def _run_job(self):
        return self.Move._cron_collection_send_due()

    def _provider_says(self, tx, state, kind=None, message="Refused"):
        """What a provider's webhook does: the refusal's kind, then core's
        state setter; then Odoo's post-processing job."""
        if kind:
            tx.collection_failure_kind = kind
        if state == "done":
            tx._set_done()
        else:
            tx._set_error(message)
        tx._post_process()

    def test_pending_debit_is_neither_debited_again_nor_reminded(self):
        self.company.collection_reminders_enabled = True
        self._set_automatic(self.customer, self.pending_token)
        invoice = self._make_invoice(self.customer, amount=80.0, due_date="2026-12-01")

        self._run_job()
        tx = invoice.transaction_ids
        self.assertEqual(tx.state, "pending")
        self.assertEqual(invoice.collection_state, "pending")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(invoice.collection_can_remind)
        self.assertIn(
            "being collected automatically",
            invoice._collection_get_reminder_refusals()[invoice],
        )
        self._run_job()
        with self.assertRaisesRegex(UserError, "already in progress"):
            invoice.action_collection_charge_now()
        self.assertEqual(len(invoice.transaction_ids), 1)
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        self.assertIn(invoice.name, wizard.collection_pending_warning)

        self._provider_says(tx, "done")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.collection_state, "debited")
        self.assertEqual(len(tx.payment_id), 1)
        tx._post_process()  # the job and the browser post-process again
        self.assertEqual(len(invoice.matched_payment_ids), 1)

    def test_soft_refusals_are_retried_then_reported(self):
        self.company.write({"collection_retry_count": 2, "collection_retry_days": 3})
        self._set_automatic(self.customer, self.pending_token)
        invoice = self._make_invoice(self.customer, amount=50.0, due_date="2026-12-15")
        keys = set()
        for day, number in (("2026-12-15", 1), ("2026-12-18", 2), ("2026-12-21", 3)):
            with freeze_time(day):
                self._run_job()
                tx = invoice.collection_transaction_id
                self.assertEqual(invoice.collection_attempt, number)
                keys.add(tx.collection_idempotency_key)
                self._provider_says(tx, "error", "soft", "Insufficient funds")
                # Nothing else on the day of a refusal.
                self._run_job()
                self.assertEqual(len(invoice.transaction_ids), number)
            if number < 3:
                self.assertEqual(invoice.collection_state, "scheduled")
                self.assertEqual(
                    str(invoice.collection_next_attempt_date),
                    {1: "2026-12-18", 2: "2026-12-21"}[number],
                )
        self.assertEqual(len(keys), 3, "each attempt has its own idempotency key")
        self.assertEqual(invoice.collection_state, "failed")
        self.assertFalse(invoice.collection_next_attempt_date)
        mails = invoice.message_ids.filtered(
            lambda m: "did not go through" in (m.subject or "")
        )
        self.assertEqual(len(mails), 1, "the customer is told once, at the end")
        self.assertIn("Insufficient funds", mails.body)
        self.assertIn("save a new payment method", mails.body)
        self.assertTrue(invoice.activity_ids)
        with freeze_time("2026-12-31"):
            self._run_job()
        self.assertEqual(len(invoice.transaction_ids), 3)

    def test_hard_refusal_ends_at_once(self):
        self._set_automatic(self.customer, self.pending_token)
        invoice = self._make_invoice(self.customer, due_date="2026-12-10")
        self._run_job()
        self._provider_says(
            invoice.collection_transaction_id, "error", "hard", "Card expired"
        )
        self.assertEqual(invoice.collection_state, "failed")
        self.assertEqual(invoice.collection_failures, 1)

    def test_authentication_required_sends_an_on_session_link(self):
        self._set_automatic(self.customer, self.pending_token)
        invoice = self._make_invoice(self.customer, amount=42.0, due_date="2026-12-10")
        self._run_job()
        self._provider_says(
            invoice.collection_transaction_id,
            "error",
            "authentication_required",
            "Authentication required",
        )
        self.assertEqual(invoice.collection_state, "failed")
        mail = invoice.message_ids.filtered(
            lambda m: "did not go through" in (m.subject or "")
        )
        self.assertIn("confirm the payment", mail.body)
        self.assertIn(f"/my/invoices/{invoice.id}?access_token=", mail.body)
        self.assertNotIn("save a new payment method", mail.body)

    def test_chargeback_reverses_the_payment_once(self):
        self._set_automatic(self.customer)
        invoice = self._make_invoice(
            self.customer, amount=123.45, due_date="2026-12-10"
        )
        self._run_job()
        tx = invoice.transaction_ids
        self.assertEqual(invoice.payment_state, "paid")
        payment = tx.payment_id

        tx._collection_reverse("Disputed by the customer", "chargeback")
        tx._collection_reverse("Disputed by the customer", "chargeback")  # replay

        self.assertTrue(tx.collection_reversed)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 123.45)
        self.assertEqual(invoice.collection_state, "failed")
        self.assertEqual(payment.state, "rejected")
        reversal = tx.collection_reversal_move_id
        self.assertEqual(reversal.state, "posted")
        self.assertEqual(reversal.reversed_entry_id, payment.move_id)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("reversed_entry_id", "=", payment.move_id.id)]
            ),
            1,
        )
        self.assertIn("charged back", invoice.message_ids.mapped("body")[1])

    def test_late_failure_of_a_pending_debit_is_a_refusal(self):
        self._set_automatic(self.customer, self.pending_token)
        invoice = self._make_invoice(self.customer, due_date="2026-12-10")
        self._run_job()
        invoice.collection_transaction_id._collection_reverse("Failed", "late_failure")
        self.assertEqual(invoice.collection_state, "failed")
        self.assertFalse(invoice.collection_transaction_id.collection_reversed)

    def test_charge_now(self):
        self._set_automatic(self.customer)
        invoice = self._make_installment_invoice(self.customer, "2026-12-20", 1000.0)
        self.assertEqual(invoice.collection_state, "scheduled")
        action = invoice.action_collection_charge_now()
        self.assertEqual(action["params"]["type"], "success")
        tx = invoice.transaction_ids
        self.assertEqual(tx.amount, 300.0, "nothing due yet: the next installment")
        self.assertEqual(invoice.amount_residual, 700.0)
        self.assertEqual(invoice.collection_state, "scheduled")

    def test_charge_now_refusals(self):
        offline = self._make_invoice(self.other_customer, due_date="2026-12-10")
        with self.assertRefused(UserError, "does not pay automatically"):
            offline.action_collection_charge_now()
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer, due_date="2026-12-10")
        invoice.collection_block_reason = "dispute"
        with self.assertRefused(UserError, "on hold"):
            invoice.action_collection_charge_now()
        invoice.collection_block_reason = False
        invoice.action_collection_charge_now()
        with self.assertRefused(UserError, "is paid"):
            invoice.action_collection_charge_now()
        self.assertEqual(len(invoice.transaction_ids), 1)
        salesman = self._make_user("charge_sales", "sales_team.group_sale_salesman")
        with self.assertRefused(UserError, "Only accountants"):
            invoice.with_user(salesman).action_collection_charge_now()

    def test_deactivated_mandate_stops_the_debits(self):
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer, due_date="2026-12-31")
        self.token._collection_deactivate("The mandate was cancelled by the bank.")
        self.assertFalse(self.token.active)
        self.assertEqual(invoice.collection_state, "stopped")
        self.assertTrue(self.customer.collection_registration_pending)
        self.assertIn("can no longer be debited", self.customer.message_ids[1].body)
        self.assertTrue(self.customer.activity_ids)
        self._run_job()
        self.assertFalse(invoice.transaction_ids)

    def test_registered_payment_cancels_the_scheduled_debit(self):
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer, due_date="2026-12-31")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({}).action_create_payments()
        self.assertFalse(invoice.collection_state)
        self._run_job()
        self.assertFalse(invoice.transaction_ids)
