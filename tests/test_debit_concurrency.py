# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import psycopg2.errors

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

from .concurrency import run_at_once


@tagged("-standard", "apc_concurrency", "-at_install", "post_install")
class TestDebitConcurrency(BaseCase):
    """The due-date job, "Charge Now", a webhook and Odoo's post-processing job
    reach the same invoice or transaction at the same time, in real
    transactions: nothing is debited or booked twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.addClassCleanup(cls._cleanup)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            provider = env.ref("payment.payment_provider_demo")
            cls.previous_provider_state = provider.state
            provider.state = "test"
            partner = env["res.partner"].create(
                {"name": "Concurrent Debtor", "email": "debtor@example.com"}
            )
            tokens = env["payment.token"].create(
                [
                    {
                        "provider_id": provider.id,
                        "payment_method_id": env.ref("payment.payment_method_card").id,
                        "partner_id": partner.id,
                        "payment_details": "4242",
                        "provider_ref": f"demo-concurrency-{state}",
                        "demo_simulated_state": state,
                    }
                    for state in ("done", "pending")
                ]
            )
            partner.write(
                {"collection_mode": "automatic", "collection_token_id": tokens[0].id}
            )
            cls.partner_id, cls.provider_id = partner.id, provider.id
            cls.done_token_id, cls.pending_token_id = tokens.ids

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            moves = env["account.move"].search(
                [
                    ("partner_id", "=", cls.partner_id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                ]
            )
            payments = env["account.payment"].search(
                [("partner_id", "=", cls.partner_id)]
            )
            payments.move_id.line_ids.remove_move_reconcile()
            payments.action_draft()
            payments.action_cancel()
            moves.button_draft()
            moves.button_cancel()
            env["payment.token"].browse(
                [cls.done_token_id, cls.pending_token_id]
            ).active = False
            env["res.partner"].browse(cls.partner_id).active = False
            env["payment.provider"].browse(
                cls.provider_id
            ).state = cls.previous_provider_state

    def _make_due_invoice(self, token_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].browse(self.partner_id)
            partner.collection_token_id = token_id
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id,
                    "invoice_date": fields.Date.today(),
                    "invoice_date_due": fields.Date.today(),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "quantity": 1, "price_unit": 250.0}
                        )
                    ],
                }
            )
            invoice.action_post()
            return invoice.id

    def _in_two_threads(self, *workers):
        return run_at_once(*workers)

    def _run(self, barrier, action):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # Start the snapshot before meeting the other worker.
            env["res.partner"].browse(self.partner_id).name  # noqa: B018
            barrier.wait(timeout=10)
            try:
                outcome = action(env)
            except psycopg2.errors.SerializationFailure:
                cr.rollback()
                return "retry"  # Odoo's HTTP layer and the scheduler replay it
            except UserError:
                cr.rollback()
                return "refused"
            return outcome

    @mute_logger("odoo.sql_db", "odoo.addons.payment.models.payment_transaction")
    def test_job_and_charge_now_debit_once(self):
        invoice_id = self._make_due_invoice(self.done_token_id)

        def job(barrier):
            return self._run(
                barrier,
                lambda env: f"job:{env['account.move']._cron_collection_send_due()}",
            )

        def charge_now(barrier):
            def action(env):
                env["account.move"].browse(invoice_id).action_collection_charge_now()
                return "charged"

            return self._run(barrier, action)

        outcomes = self._in_two_threads(job, charge_now)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            invoice = env["account.move"].browse(invoice_id)
            self.assertEqual(len(invoice.transaction_ids), 1, outcomes)
            self.assertEqual(invoice.payment_state, "paid", outcomes)
            self.assertEqual(len(invoice.transaction_ids.payment_id), 1)
            self.assertEqual(invoice.transaction_ids.amount, 250.0)

    @mute_logger("odoo.sql_db", "odoo.addons.payment.models.payment_transaction")
    def test_webhook_and_post_processing_book_once(self):
        invoice_id = self._make_due_invoice(self.pending_token_id)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["account.move"]._cron_collection_send_due()
            tx_id = env["account.move"].browse(invoice_id).collection_transaction_id.id
            self.assertEqual(env["payment.transaction"].browse(tx_id).state, "pending")

        def confirm(barrier):
            def action(env):
                tx = env["payment.transaction"].browse(tx_id)
                tx._set_done()
                tx._post_process()
                return "booked"

            return self._run(barrier, action)

        outcomes = self._in_two_threads(confirm, confirm)
        self.assertIn("booked", outcomes)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            tx = env["payment.transaction"].browse(tx_id)
            invoice = env["account.move"].browse(invoice_id)
            self.assertEqual(tx.state, "done")
            self.assertEqual(
                env["account.payment"].search_count(
                    [("payment_transaction_id", "=", tx_id)]
                ),
                1,
                outcomes,
            )
            self.assertEqual(invoice.payment_state, "paid")
            self.assertEqual(invoice.collection_state, "debited")
