# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import SUPERUSER_ID
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, freeze_time, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-11-20")
class TestPlanReview(CollectionCommon, HttpCase):
    """What the accountant reviewing a proposal sees and can do: the real
    first payment date, installments that say what became of them, a real
    reviewer, and a counter-proposal the customer is told of."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_plans()
        cls.accountant = cls._make_user(
            "apc_review_accountant",
            "base.group_user,account.group_account_invoice",
            name="Billing Clerk",
            email="clerk@example.com",
        )
        cls.manager = cls._make_user(
            "apc_review_manager",
            "base.group_user,account.group_account_manager",
            name="Chief Accountant",
            email="chief@example.com",
        )
        cls.salesperson = cls._make_user(
            "apc_review_sales",
            "base.group_user,sales_team.group_sale_salesman",
            name="Sales Rep",
            email="rep@example.com",
        )
        cls.portal_user = cls._make_user(
            "apc_review_claire",
            "base.group_portal",
            partner_id=cls.contact.id,
        )

    def _odoobot_invoice(self):
        """An invoice made by OdooBot (imported, or by a scheduled action)."""
        invoice = self._make_invoice(self.customer, 300.0)
        invoice.invoice_user_id = SUPERUSER_ID
        return invoice

    def _review_activity(self, plan):
        return plan.activity_ids.filtered(
            lambda act: act.activity_type_id
            == self.env.ref("mail.mail_activity_data_todo")
        )

    def test_first_payment_is_the_first_installment(self):
        invoice = self._make_invoice(self.customer, 300.0)
        plan = self._propose_plan(
            invoice, day_of_month=10, first_date=date(2026, 12, 6)
        )
        self.assertEqual(plan.first_date, date(2026, 12, 6))  # what was asked
        self.assertEqual(plan.first_installment_date, date(2026, 12, 10))
        self.assertEqual(plan.installment_ids[0].date, date(2026, 12, 10))
        self.assertEqual(plan.last_date, date(2027, 2, 10))
        views = self.env["collection.plan"].get_views(
            [(False, "list"), (False, "kanban"), (False, "form")]
        )["views"]
        for view_type in ("list", "kanban", "form"):
            with self.subTest(view_type=view_type):
                self.assertIn('name="first_installment_date"', views[view_type]["arch"])
                self.assertNotIn('name="first_date"', views[view_type]["arch"])

    def test_installments_of_an_ended_plan_say_so(self):
        for end, expected in (
            ("refused", "refused"),
            ("cancelled", "cancelled"),
            ("broken", "broken"),
        ):
            with self.subTest(end=end):
                invoice = self._make_invoice(self.customer, 300.0)
                plan = self._propose_plan(invoice)
                if end == "refused":
                    plan._refuse("No")
                elif end == "cancelled":
                    plan.action_approve()
                    plan._cancel("Paid in full by cheque")
                else:
                    plan.action_approve()
                    with freeze_time("2027-01-15"):
                        self.env["collection.plan"]._cron_check_broken_plans()
                self.assertEqual(plan.state, end)
                self.assertEqual(set(plan.installment_ids.mapped("state")), {expected})
                labels = dict(
                    plan.installment_ids._fields["state"]._description_selection(
                        self.env
                    )
                )
                self.assertNotEqual(labels[expected], "Planned")

    def test_review_activity_goes_to_a_real_person(self):
        root = self.env["res.users"].browse(SUPERUSER_ID)
        plan = self._propose_plan(self._odoobot_invoice())
        self.assertNotEqual(self._review_activity(plan).user_id, root)
        self.assertTrue(self._review_activity(plan).user_id)
        self.assertFalse(self._review_activity(plan).user_id.share)

        # The reviewer chosen in the settings.
        settings = self.env["res.config.settings"].create({})
        settings.collection_plan_reviewer_id = self.accountant
        settings.execute()
        plan = self._propose_plan(self._odoobot_invoice())
        self.assertEqual(self._review_activity(plan).user_id, self.accountant)

        # The customer's salesperson, a real user, comes first.
        self.customer.user_id = self.salesperson
        plan = self._propose_plan(self._odoobot_invoice())
        self.assertEqual(self._review_activity(plan).user_id, self.salesperson)

        # Without a chosen reviewer: an accounting manager, never OdooBot.
        self.customer.user_id = False
        self.company.collection_plan_reviewer_id = False
        plan = self._propose_plan(self._odoobot_invoice())
        reviewer = self._review_activity(plan).user_id
        self.assertTrue(reviewer.has_group("account.group_account_manager"))
        self.assertNotEqual(reviewer, root)

    def _adjust_wizard(self, plan, user=None):
        action = plan.with_user(user or self.accountant).action_adjust()
        self.assertEqual(action["res_model"], "collection.plan.adjust")
        return Form(
            self.env[action["res_model"]]
            .with_user(user or self.accountant)
            .with_context(**action["context"])
        )

    def test_counter_proposal(self):
        invoice = self._make_invoice(self.customer, 300.0)
        plan = self._propose_plan(invoice)
        self.assertEqual(plan.installment_ids.mapped("amount"), [100.0] * 3)
        messages_before = plan.message_ids

        # Amounts that do not add up, or a date in the past: refused, nothing
        # stored.
        for changes, message in (
            ({0: ("2026-12-31", 100.01)}, "add up to"),
            ({0: ("2026-11-01", 100.0)}, "in the past"),
            ({0: ("2026-12-31", 0.0), 1: ("2027-01-31", 200.0)}, "positive"),
        ):
            with self.subTest(changes=changes):
                wizard_form = self._adjust_wizard(plan)
                for index, (due_date, amount) in changes.items():
                    with wizard_form.line_ids.edit(index) as line:
                        line.date = due_date
                        line.amount = amount
                wizard = wizard_form.save()
                with self.assertRefused(UserError, message):
                    wizard.action_confirm()
                self.assertEqual(plan.installment_ids.mapped("amount"), [100.0] * 3)
                self.assertFalse(plan.adjusted)
                self.assertEqual(plan.message_ids, messages_before)

        # Two installments instead of three, to the cent.
        wizard_form = self._adjust_wizard(plan)
        wizard_form.line_ids.remove(2)
        with wizard_form.line_ids.edit(0) as line:
            line.date = "2026-12-15"
            line.amount = 150.01
        with wizard_form.line_ids.edit(1) as line:
            line.date = "2027-01-15"
            line.amount = 149.99
        self.assertEqual(wizard_form.amount_difference, 0.0)
        wizard_form.save().action_confirm()
        self.env.invalidate_all()
        self.assertEqual(plan.state, "proposed")
        self.assertTrue(plan.adjusted)
        self.assertEqual(
            plan.installment_ids.mapped("date"),
            [date(2026, 12, 15), date(2027, 1, 15)],
        )
        self.assertEqual(plan.installment_ids.mapped("amount"), [150.01, 149.99])
        self.assertEqual(plan.installment_count, 2)
        self.assertEqual(plan.first_installment_date, date(2026, 12, 15))
        mail = plan.message_ids.filtered(
            lambda m: "our proposal for your payment plan" in (m.subject or "")
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(self.customer, mail.partner_ids)
        self.assertIn("150.01", mail.body)
        self.assertIn("149.99", mail.body)

        # The customer sees the new schedule on the portal.
        self.authenticate(self.portal_user.login, self.portal_user.login)
        page = self.url_open(f"/my/payment_plans/{plan.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("150.01", page.text)
        self.assertIn("o_account_payment_collection_adjusted", page.text)

        # Then approved as usual; an active plan cannot be adjusted.
        plan.with_user(self.accountant).action_approve()
        self.assertEqual(plan.state, "active")
        with self.assertRefused(UserError, "Only proposed plans"):
            plan.with_user(self.accountant).action_adjust()
