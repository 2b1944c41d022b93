# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from ..utils import PLAN_WORKFLOW
from .common import CollectionCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-11-21")
class TestPlanWorkflow(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_plans()
        cls.invoice_1 = cls._make_invoice(cls.customer, amount=1000.0)
        cls.invoice_2 = cls._make_invoice(cls.customer, amount=0.01)
        cls.small_invoice = cls._make_invoice(cls.customer, amount=100.0)
        cls.other_currency = cls.setup_other_currency("EUR")

    def _propose(self, invoices=None, **values):
        return self._propose_plan(
            invoices or self.invoice_1 | self.invoice_2, partner=self.contact, **values
        )

    def test_schedule_split_to_the_cent_on_month_ends(self):
        plan = self._propose()
        self.assertEqual(plan.state, "proposed")
        self.assertEqual(plan.partner_id, self.customer)
        self.assertEqual(
            plan.installment_ids.mapped("date"),
            [date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28)],
        )
        self.assertEqual(
            plan.installment_ids.mapped("amount"), [333.33, 333.33, 333.35]
        )
        self.assertAlmostEqual(
            sum(plan.installment_ids.mapped("amount")), 1000.01, places=2
        )
        self.assertEqual(plan.amount_total, 1000.01)
        self.assertEqual(plan.invoice_ids, self.invoice_1 | self.invoice_2)
        for invoice in plan.invoice_ids:
            self.assertEqual(invoice.collection_block_reason, "plan_proposed")
            self.assertEqual(invoice.collection_plan_id, plan)
            self.assertFalse(invoice._has_to_be_paid())
        # The customer is acknowledged, the accountants get an activity.
        self.assertIn(self.customer, plan.message_ids.partner_ids)
        self.assertTrue(plan.activity_ids)

    def test_deferred_and_weekly(self):
        deferred = self._propose(
            self.invoice_1, plan_kind="deferred", first_date=date(2027, 1, 15)
        )
        self.assertEqual(deferred.installment_ids.mapped("date"), [date(2027, 1, 15)])
        self.assertEqual(deferred.installment_ids.mapped("amount"), [1000.0])
        weekly = self._propose(
            self.invoice_2 | self._make_invoice(self.customer, 90.0),
            plan_kind="weekly",
            installment_count=2,
        )
        self.assertEqual(
            weekly.installment_ids.mapped("date"),
            [date(2026, 12, 1), date(2026, 12, 8)],
        )
        self.assertEqual(weekly.installment_ids.mapped("amount"), [45.0, 45.01])

    def test_refused_inputs_store_nothing(self):
        other_currency = self._make_invoice(self.customer, 50.0)
        other_currency.button_draft()
        other_currency.currency_id = self.other_currency
        other_currency.action_post()
        draft = self._make_invoice(self.customer, 50.0, post=False)
        foreign = self._make_invoice(self.other_customer, 50.0)
        cases = [
            ({"plan_kind": "yearly"}, "how you would like to pay"),
            ({"installment_count": 0}, "between 2 and 12"),
            ({"installment_count": 13}, "between 2 and 12"),
            ({"installment_count": "3"}, "whole number"),
            ({"day_of_month": 0}, "between 1 and 31"),
            ({"day_of_month": 32}, "between 1 and 31"),
            ({"first_date": date(2026, 11, 20)}, "cannot be in the past"),
            ({"first_date": None}, "date of the first payment"),
            (
                {"installment_count": 12, "first_date": date(2027, 11, 1)},
                "must end within",
            ),
        ]
        for values, message in cases:
            with (
                self.subTest(values=values),
                self.assertRefused(ValidationError, message),
            ):
                self._propose(self.invoice_1, **values)
        with self.assertRefused(ValidationError, "at least"):
            self._propose(self.small_invoice, installment_count=6)  # 16.67 < 20
        for invoices, message in [
            (self.invoice_1 | other_currency, "different currencies"),
            (draft, "not validated"),
            (foreign, "Unknown invoice"),
            (self.env["account.move"], "at least one invoice"),
        ]:
            with (
                self.subTest(invoices=invoices.ids),
                self.assertRefused(ValidationError, message),
            ):
                self.Plan._create_proposal(self.contact, invoices, self._plan_values())
        self.company.collection_plan_reason_required = True
        with self.assertRefused(ValidationError, "why you need"):
            self._propose(reason="  ")
        self.company.collection_allow_plan_proposal = False
        with self.assertRefused(ValidationError, "cannot be proposed online"):
            self._propose()
        self.assertFalse(self.Plan.search([]))
        invoices = self.invoice_1 | self.invoice_2 | self.small_invoice
        self.assertFalse(any(invoices.mapped("collection_block_reason")))

    def test_an_invoice_is_in_one_open_plan_only(self):
        self._propose(self.invoice_1)
        with self.assertRefused(
            ValidationError, "already in a payment plan or on hold"
        ):
            self._propose(self.invoice_1)
        # The database itself refuses a second open plan for the invoice.
        plan = self.Plan.search([])
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env["collection.plan.invoice"].sudo().with_context(
                collection_plan_workflow=PLAN_WORKFLOW
            ).create({"plan_id": plan.id, "move_id": self.invoice_1.id})
            self.env.flush_all()
        self.assertEqual(self.Plan.search_count([]), 1)

    def test_approve_then_payments_allocated_oldest_first_until_done(self):
        plan = self._propose(self.invoice_1, installment_count=4)
        plan.action_approve()
        self.assertEqual(plan.state, "active")
        self.assertEqual(self.invoice_1.collection_block_reason, "plan_active")
        approval = plan.message_ids.filtered(lambda m: self.customer in m.partner_ids)[
            :1
        ]
        self.assertIn("is approved", approval.body)
        self.assertIn("250.00", approval.body)
        with self.assertRefused(UserError, "Only proposed plans"):
            plan.action_approve()

        register = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice_1.ids
        )
        register.create({"amount": 300.0}).action_create_payments()
        self.assertEqual(
            plan.installment_ids.mapped("amount_paid"), [250.0, 50.0, 0.0, 0.0]
        )
        self.assertEqual(
            plan.installment_ids.mapped("state"), ["paid", "due", "due", "due"]
        )
        self.assertEqual(plan.next_installment_id, plan.installment_ids[1])
        self.assertEqual(plan.state, "active")
        register.create({"amount": 700.0}).action_create_payments()
        self.assertEqual(self.invoice_1.payment_state, "paid")
        self.assertEqual(plan.state, "done")
        self.assertFalse(self.invoice_1.collection_block_reason)

    def test_refuse_with_reason_unblocks(self):
        plan = self._propose()
        wizard = self.env["collection.plan.reason"].with_context(active_ids=plan.ids)
        with self.assertRefused(UserError, "why the plan is refused"):
            wizard.create({"reason": " "}).action_confirm()
        self.assertEqual(plan.state, "proposed")
        wizard.create(
            {"reason": "Three installments at most for this amount"}
        ).action_confirm()
        self.assertEqual(plan.state, "refused")
        invoices = self.invoice_1 | self.invoice_2
        self.assertFalse(any(invoices.mapped("collection_block_reason")))
        self.assertFalse(invoices.collection_plan_id)
        refusal = plan.message_ids.filtered(lambda m: self.customer in m.partner_ids)[
            :1
        ]
        self.assertIn("Three installments at most", refusal.body)
        # Free again for a new proposal.
        self.assertEqual(self._propose(self.invoice_1).state, "proposed")

    def test_unpaid_installment_breaks_the_plan_after_the_grace_days(self):
        self.company.collection_plan_break_days = 10
        plan = self._propose(self.invoice_1, installment_count=2)
        plan.action_approve()
        with freeze_time("2027-01-09"):  # 9 days after the first installment
            self.assertFalse(self.Plan._cron_check_broken_plans())
            self.assertEqual(plan.installment_ids[0].state, "late")
        with freeze_time("2027-01-11"):
            self.assertEqual(self.Plan._cron_check_broken_plans(), plan)
        self.assertEqual(plan.state, "broken")
        self.assertFalse(self.invoice_1.collection_block_reason)
        self.assertTrue(self.invoice_1._has_to_be_paid())
        broken_mail = plan.message_ids.filtered(
            lambda m: self.customer in m.partner_ids
        )[:1]
        self.assertIn("has ended", broken_mail.body)
        self.assertTrue(plan.activity_ids)

    def test_plan_reasons_follow_the_plan(self):
        plan = self._propose(self.invoice_1)
        with self.assertRefused(UserError, "follow the payment plan"):
            self.invoice_1.collection_block_reason = False
        with self.assertRefused(UserError, "follow the payment plan"):
            self.small_invoice.collection_block_reason = "plan_active"
        self.assertEqual(self.invoice_1.collection_block_reason, "plan_proposed")
        # An accountant may still put an invoice on hold for a dispute.
        self.small_invoice.collection_block_reason = "dispute"
        self.assertFalse(self.small_invoice._has_to_be_paid())
        self.assertEqual(plan.next_installment_date, plan.installment_ids[0].date)
        self.assertEqual(plan.invoice_link_ids.payment_state, "not_paid")

    def test_proposal_queries_do_not_grow_with_the_invoices(self):
        def queries(invoices):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self._propose(invoices, plan_kind="deferred", first_date=date(2027, 1, 15))
            self.env.flush_all()
            self.env.cr.precommit.run()
            return self.env.cr.sql_log_count - before

        self._make_invoice(self.customer, 10.0)  # warm the caches of the code paths
        one = queries(self.invoice_1)
        six = queries(
            self.env["account.move"].concat(
                *(self._make_invoice(self.customer, 50.0) for _index in range(6))
            )
        )
        self.assertLessEqual(
            six - one, 6, f"1 invoice: {one} queries, 6 invoices: {six}"
        )
