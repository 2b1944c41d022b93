# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2.errors

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

# As many tries as Odoo's HTTP layer gives a request that failed to serialise.
MAX_TRIES = 5


@tagged("-standard", "apc_concurrency", "-at_install", "post_install")
class TestWalletConcurrency(BaseCase):
    """Two tabs (or a tab and an accountant) spend the same wallet at the same
    time, in real transactions: the balance is never spent twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.addClassCleanup(cls._cleanup)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            cls.company_id = company.id
            cls.partner_ids = []
            cls.bank_journal_id = (
                env["account.journal"]
                .search(
                    [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
                )
                .id
            )

    @classmethod
    def _cleanup(cls):
        for partner_id in cls.partner_ids:
            cls._cleanup_partner(partner_id)

    @classmethod
    def _cleanup_partner(cls, partner_id):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(cls.company_id)
            account = company.collection_wallet_account_id
            lines = env["account.move.line"].search(
                [("partner_id", "=", partner_id), ("account_id", "=", account.id)]
            )
            # What took from the wallet first, then the top-ups.
            spending = lines.filtered(lambda line: line.balance > 0).move_id
            top_ups = lines.move_id - spending
            for moves in (spending, top_ups):
                moves.line_ids.remove_move_reconcile()
                posted = moves.filtered(lambda move: move.state == "posted")
                posted.button_draft()
                posted.button_cancel()
            invoices = env["account.move"].search(
                [("partner_id", "=", partner_id), ("move_type", "=", "out_invoice")]
            )
            invoices.line_ids.remove_move_reconcile()
            invoices.filtered(lambda move: move.state == "posted").button_draft()
            invoices.button_cancel()
            env["res.partner"].browse(partner_id).active = False

    def _prepare(self, top_up, *invoice_amounts):
        """Commit a customer of this test, a top-up of its wallet and open
        invoices.

        :return: the invoices' ids
        """
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(self.company_id)
            self.partner_id = (
                env["res.partner"]
                .create({"name": "Concurrent Wallet", "is_company": True})
                .id
            )
            self.partner_ids.append(self.partner_id)
            payment = env["account.payment"].create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": self.partner_id,
                    "amount": top_up,
                    "journal_id": self.bank_journal_id,
                    "destination_account_id": company.collection_wallet_account_id.id,
                }
            )
            payment.action_post()
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.partner_id,
                        "invoice_date": fields.Date.today(),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Service",
                                    "quantity": 1,
                                    "price_unit": amount,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for amount in invoice_amounts
                ]
            )
            invoices.action_post()
            return invoices.ids

    def _balance(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["res.partner"].browse(self.partner_id).collection_wallet_balance

    def _in_two_threads(self, *workers):
        saved_lock, Registry._lock = Registry._lock, DummyRLock()
        try:
            barrier = threading.Barrier(len(workers))
            with ThreadPoolExecutor(max_workers=len(workers)) as executor:
                futures = [executor.submit(worker, barrier) for worker in workers]
                return sorted(future.result(timeout=60) for future in futures)
        finally:
            Registry._lock = saved_lock

    def _run(self, barrier, action):
        """Run ``action`` in its own transaction, started before meeting the
        other worker, and replay it when it fails to serialise, as Odoo's HTTP
        layer does.

        :return: ``"done"``, ``"refused"``, or ``"retry"`` if it never passed
        """
        for attempt in range(MAX_TRIES):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                # Take the snapshot before the other worker commits.
                env["res.partner"].browse(self.partner_id).collection_wallet_balance  # noqa: B018
                if attempt == 0:
                    barrier.wait(timeout=10)
                try:
                    action(env)
                except psycopg2.errors.SerializationFailure:
                    cr.rollback()
                    continue
                except (UserError, ValidationError):
                    cr.rollback()
                    return "refused"
                return "done"
        return "retry"

    @mute_logger("odoo.sql_db")
    def test_two_tabs_paying_two_invoices_spend_the_balance_once(self):
        first_id, second_id = self._prepare(100.0, 100.0, 100.0)

        def pay(invoice_id):
            def worker(barrier):
                return self._run(
                    barrier,
                    lambda env: env["account.move"]
                    .browse(invoice_id)
                    .action_collection_pay_with_wallet(),
                )

            return worker

        outcomes = self._in_two_threads(pay(first_id), pay(second_id))
        self.assertEqual(outcomes, ["done", "refused"])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            invoices = env["account.move"].browse([first_id, second_id])
            self.assertEqual(sorted(invoices.mapped("amount_residual")), [0.0, 100.0])
        self.assertEqual(self._balance(), 0.0)

    @mute_logger("odoo.sql_db")
    def test_two_tabs_paying_one_invoice_pay_once(self):
        (invoice_id,) = self._prepare(300.0, 120.0)

        def pay(barrier):
            return self._run(
                barrier,
                lambda env: env["account.move"]
                .browse(invoice_id)
                .action_collection_pay_with_wallet(),
            )

        outcomes = self._in_two_threads(pay, pay)
        self.assertEqual(outcomes, ["done", "refused"])
        self.assertEqual(self._balance(), 180.0)

    @mute_logger("odoo.sql_db")
    def test_refund_and_payment_at_once_never_overdraw(self):
        (invoice_id,) = self._prepare(100.0, 80.0)

        def pay(barrier):
            return self._run(
                barrier,
                lambda env: env["account.move"]
                .browse(invoice_id)
                .action_collection_pay_with_wallet(),
            )

        def refund(barrier):
            def action(env):
                env["collection.wallet.refund"].create(
                    {
                        "partner_id": self.partner_id,
                        "amount": 50.0,
                        "journal_id": self.bank_journal_id,
                    }
                ).action_refund()

            return self._run(barrier, action)

        outcomes = self._in_two_threads(pay, refund)
        balance = self._balance()
        self.assertGreaterEqual(balance, 0.0, outcomes)
        self.assertIn("done", outcomes)
        # The payment took 80 (then the refund of 50 was refused), or the
        # refund took 50 (then the payment took the 50 left).
        self.assertIn(balance, (20.0, 0.0), outcomes)
