# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

import psycopg2.errors

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tests.common import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

from .concurrency import run_at_once


@tagged("-standard", "apc_concurrency", "-at_install", "post_install")
class TestPlanConcurrency(BaseCase):
    """Two tabs submit the same proposal at the same time, in two real
    transactions: one plan is created, the other submission is refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.addClassCleanup(cls._cleanup)
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            cls.previous_setting = company.collection_allow_plan_proposal
            company.collection_allow_plan_proposal = True
            partner = env["res.partner"].create(
                {"name": "Concurrent Customer", "email": "cc@example.com"}
            )
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "quantity": 1, "price_unit": 300.0}
                        )
                    ],
                }
            )
            invoice.action_post()
            cls.partner_id, cls.invoice_id, cls.company_id = (
                partner.id,
                invoice.id,
                company.id,
            )

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            invoice = env["account.move"].browse(cls.invoice_id)
            env["collection.plan"].search(
                [("partner_id", "=", cls.partner_id)]
            ).unlink()
            invoice._collection_write_plan_state(
                {"collection_block_reason": False, "collection_plan_id": False},
                "Test clean-up",
            )
            invoice.button_draft()
            invoice.button_cancel()
            env["res.partner"].browse(cls.partner_id).active = False
            env["res.company"].browse(
                cls.company_id
            ).collection_allow_plan_proposal = cls.previous_setting

    def _submit(self, barrier=None):
        values = {
            "plan_kind": "weekly",
            "installment_count": 3,
            "first_date": fields.Date.today() + timedelta(days=7),
            "reason": "Two tabs",
        }
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].browse(self.partner_id)
            invoice = env["account.move"].browse(self.invoice_id)
            if barrier:
                barrier.wait(timeout=10)
            try:
                env["collection.plan"]._create_proposal(partner, invoice, values)
            except psycopg2.errors.SerializationFailure:
                cr.rollback()
                return "retry"  # Odoo's HTTP layer replays the request
            except ValidationError:
                cr.rollback()
                return "refused"
            return "created"

    @mute_logger("odoo.sql_db")
    def test_two_tabs_give_one_plan(self):
        outcomes = run_at_once(self._submit, self._submit)
        self.assertEqual(outcomes.count("created"), 1, outcomes)
        if "retry" in outcomes:
            # The replayed request finds the invoice in a plan.
            self.assertEqual(self._submit(), "refused")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            plans = env["collection.plan"].search(
                [("partner_id", "=", self.partner_id)]
            )
            self.assertEqual(len(plans), 1)
            self.assertEqual(len(plans.installment_ids), 3)
            invoice = env["account.move"].browse(self.invoice_id)
            self.assertEqual(invoice.collection_plan_id, plans)
            self.assertEqual(invoice.collection_block_reason, "plan_proposed")
