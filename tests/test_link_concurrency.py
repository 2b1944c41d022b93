# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import psycopg2.errors

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

from .concurrency import run_at_once


@tagged("-standard", "apc_concurrency", "-at_install", "post_install")
class TestLinkConcurrency(BaseCase):
    """Two tabs pay one payment link at the same time, in real transactions,
    as the link's transaction route does: one payment."""

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
                {"name": "Concurrent Payer", "email": "payer@example.com"}
            )
            link = env["collection.link"].create(
                {
                    "key": "apc-concurrency-link",
                    "partner_id": partner.id,
                    "company_id": env.company.id,
                    "currency_id": env.company.currency_id.id,
                    "purpose": "wallet",
                    "amount": 42.0,
                    "expiry_date": fields.Date.add(fields.Date.today(), days=7),
                }
            )
            cls.partner_id, cls.link_id, cls.provider_id = (
                partner.id,
                link.id,
                provider.id,
            )

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            link = env["collection.link"].browse(cls.link_id)
            txs = link.transaction_ids
            payments = txs.payment_id
            payments.action_draft()
            payments.unlink()
            txs.unlink()
            link.unlink()
            env["res.partner"].browse(cls.partner_id).active = False
            env["payment.provider"].browse(
                cls.provider_id
            ).state = cls.previous_provider_state

    def _pay(self, barrier):
        """What the transaction route does for a saved card (created and paid
        in the same request), replayed once when the snapshot is outdated."""
        for attempt in range(2):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                link = env["collection.link"].browse(self.link_id)
                _snapshot = link.amount  # start the snapshot first
                if attempt == 0:
                    barrier.wait(timeout=10)
                try:
                    link._collection_lock()
                    amount = link._collection_check_payable()
                    tx = env["payment.transaction"].create(
                        {
                            "provider_id": self.provider_id,
                            "payment_method_id": env.ref(
                                "payment_demo.payment_method_demo"
                            ).id,
                            "amount": amount,
                            "currency_id": link.currency_id.id,
                            "partner_id": link.partner_id.id,
                            **link._collection_get_transaction_values(),
                        }
                    )
                    tx._set_done()
                    tx._post_process()
                except psycopg2.errors.SerializationFailure:
                    cr.rollback()
                    continue  # Odoo's HTTP layer replays the request
                except UserError:
                    cr.rollback()
                    return "refused" if attempt else "refused at once"
                return "paid"
        return "gave up"

    @mute_logger("odoo.sql_db")
    def test_two_tabs_pay_once(self):
        outcomes = run_at_once(self._pay, self._pay)
        self.assertEqual(outcomes, ["paid", "refused"])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            link = env["collection.link"].browse(self.link_id)
            self.assertEqual(len(link.transaction_ids), 1)
            self.assertEqual(link.state, "paid")
            self.assertEqual(len(link.transaction_ids.payment_id), 1)
