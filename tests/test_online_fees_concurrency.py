# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import psycopg2.errors

from odoo import SUPERUSER_ID, api, fields
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

from .concurrency import run_at_once


@tagged("-standard", "apc_concurrency", "-at_install", "post_install")
class TestIntegrationConcurrency(BaseCase):
    """Two accountants integrate the same online payments at the same time, in
    real transactions: each payment is booked once."""

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
            cls.company_id = env.company.id
            cls.previous_mode = env.company.collection_online_integration
            env.company.collection_online_integration = "manual"
            partner = env["res.partner"].create(
                {"name": "Concurrent Online Payer", "email": "payer@example.com"}
            )
            cls.partner_id, cls.provider_id = partner.id, provider.id

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            payments = env["account.payment"].search(
                [("partner_id", "=", cls.partner_id)]
            )
            payments.move_id.line_ids.remove_move_reconcile()
            payments.action_draft()
            payments.action_cancel()
            moves = env["account.move"].search(
                [("partner_id", "=", cls.partner_id), ("state", "=", "posted")]
            )
            moves.button_draft()
            moves.button_cancel()
            env["res.partner"].browse(cls.partner_id).active = False
            env["res.company"].browse(
                cls.company_id
            ).collection_online_integration = cls.previous_mode
            env["payment.provider"].browse(
                cls.provider_id
            ).state = cls.previous_provider_state

    def _make_waiting_payment(self, amount):
        """A posted invoice paid online, confirmed, waiting for integration."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id,
                    "invoice_date": fields.Date.today(),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "quantity": 1, "price_unit": amount}
                        )
                    ],
                }
            )
            invoice.action_post()
            Transaction = env["payment.transaction"]
            tx = Transaction.create(
                {
                    "provider_id": self.provider_id,
                    "payment_method_id": env.ref("payment.payment_method_card").id,
                    "reference": Transaction._compute_reference(
                        "demo", prefix=invoice.name
                    ),
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": self.partner_id,
                    "operation": "online_redirect",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
            tx._set_done()
            tx._post_process()
            self.assertEqual(tx.collection_integration_state, "to_integrate")
            return invoice.id, tx.id

    def _in_two_threads(self, *workers):
        return run_at_once(*workers)

    @mute_logger("odoo.sql_db")
    def test_two_accountants_integrate_once(self):
        waiting = [self._make_waiting_payment(amount) for amount in (120.0, 80.0)]
        tx_ids = [tx_id for _invoice_id, tx_id in waiting]

        def accountant(barrier):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                txs = env["payment.transaction"].browse(tx_ids)
                txs.mapped("state")  # start the snapshot before the other one
                barrier.wait(timeout=10)
                try:
                    result = txs.action_collection_integrate()
                except psycopg2.errors.SerializationFailure:
                    cr.rollback()
                    return "retry"  # Odoo's HTTP layer replays the request
                return result["params"]["type"]

        outcomes = self._in_two_threads(accountant, accountant)
        self.assertIn("success", outcomes)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for invoice_id, tx_id in waiting:
                tx = env["payment.transaction"].browse(tx_id)
                self.assertEqual(
                    env["account.payment"].search_count(
                        [("payment_transaction_id", "=", tx_id)]
                    ),
                    1,
                    outcomes,
                )
                self.assertEqual(tx.collection_integration_state, "integrated")
                self.assertEqual(
                    env["account.move"].browse(invoice_id).amount_residual, 0.0
                )
            # The accountant whose request is replayed finds nothing to book.
            result = (
                env["payment.transaction"].browse(tx_ids).action_collection_integrate()
            )
            self.assertEqual(result["params"]["type"], "info")
            cr.rollback()
