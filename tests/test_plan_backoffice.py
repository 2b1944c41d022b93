# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, freeze_time, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestPlanBackoffice(CollectionCommon, HttpCase):
    """The accountant's side of customer-proposed payment plans: views, invoice
    filters, the way from the blocked invoice to the plan, approval (Chromium
    tour) and refusal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_plans()
        company_values = {
            "company_id": cls.company.id,
            "company_ids": [(6, 0, cls.company.ids)],
        }
        # An accountant with the "Billing" rights only, like most users of the
        # back office.
        cls.accountant = new_test_user(
            cls.env,
            "apc_plan_accountant",
            groups="base.group_user,account.group_account_invoice",
            name="Plan Accountant",
            email="plan.accountant@example.com",
            **company_values,
        )
        cls.employee = new_test_user(
            cls.env, "apc_plan_employee", groups="base.group_user", **company_values
        )

    def _propose(self, partner=None):
        """The customer proposes three monthly installments on the 5th for two
        invoices of 120.00 and 180.01 (the remainder cent goes to the last one).

        :return: the plan and its invoices
        """
        partner = partner or self.customer
        with freeze_time("2026-11-20"):
            invoices = self._make_invoice(partner, 120.0) | self._make_invoice(
                partner, 180.01
            )
            plan = self._propose_plan(
                invoices,
                partner=partner,
                day_of_month=5,
                reason="Slow season: the shop is closed in December.",
            )
        return plan, invoices

    def _customer_messages(self, plan, subject_end):
        """The e-mails sent to the customer about ``plan`` whose subject ends
        with ``subject_end``."""
        return plan.message_ids.filtered(
            lambda message: self.customer in message.partner_ids
            and (message.subject or "").endswith(subject_end)
        )

    def _get_filter_domains(self, model, view_xmlid):
        """Return the filters of a search view as ``{name: domain}``."""
        view = self.env.ref(view_xmlid)
        arch = self.env[model].get_views([(view.id, "search")])["views"]["search"][
            "arch"
        ]
        return {
            node.get("name"): node.get("domain")
            for node in etree.fromstring(arch).iterfind(".//filter")
        }

    def test_views_and_invoice_filters(self):
        """The plan views load, the invoice filters find the blocked invoices and
        the invoice leads to its plan."""
        plan, invoices = self._propose()
        self.assertEqual(plan.state, "proposed")
        self.assertEqual(plan.amount_total, 300.01)
        self.assertEqual(plan.installment_ids.mapped("amount"), [100.0, 100.0, 100.01])
        self.assertEqual(
            plan.installment_ids.mapped("date"),
            [date(2026, 12, 5), date(2027, 1, 5), date(2027, 2, 5)],
        )
        self.assertEqual(
            set(invoices.mapped("collection_block_reason")), {"plan_proposed"}
        )
        self.assertEqual(invoices.collection_plan_id, plan)
        disputed = self._make_invoice(self.customer, 50.0)
        disputed.collection_block_reason = "dispute"
        free = self._make_invoice(self.customer, 70.0)
        all_invoices = invoices | disputed | free

        # The accountant's views of payment plans.
        Plan = self.Plan.with_user(self.accountant)
        views = Plan.get_views(
            [(False, "list"), (False, "form"), (False, "kanban"), (False, "search")]
        )["views"]
        for view_type, xmlid in (
            ("list", "collection_plan_view_list"),
            ("form", "collection_plan_view_form"),
            ("kanban", "collection_plan_view_kanban"),
            ("search", "collection_plan_view_search"),
        ):
            self.assertEqual(
                views[view_type]["id"],
                self.env.ref(f"account_payment_collection.{xmlid}").id,
            )
        list_arch = etree.fromstring(views["list"]["arch"])
        for field_name in (
            "name",
            "partner_id",
            "amount_total",
            "amount_residual",
            "first_installment_date",
            "last_date",
            "installment_count",
        ):
            self.assertTrue(list_arch.xpath(f"//field[@name='{field_name}']"))
        self.assertEqual(list_arch.xpath("//field[@name='state']/@widget"), ["badge"])
        form_arch = etree.fromstring(views["form"]["arch"])
        self.assertEqual(
            form_arch.xpath("//header/button/@name"),
            [
                "action_approve",
                "action_adjust",
                "action_refuse",
                "action_cancel",
                "action_collection_revoke_links",
            ],
        )
        self.assertEqual(
            form_arch.xpath("//header/button[@name='action_cancel']/@invisible"),
            ["state != 'active'"],
        )
        self.assertEqual(
            form_arch.xpath("//header/button[@name='action_approve']/@invisible"),
            ["state != 'proposed'"],
        )
        self.assertTrue(
            form_arch.xpath("//field[@name='installment_ids']//field[@name='state']")
        )
        self.assertTrue(
            form_arch.xpath("//field[@name='invoice_link_ids']//field[@name='move_id']")
        )
        self.assertTrue(form_arch.xpath("//chatter"))
        kanban_arch = etree.fromstring(views["kanban"]["arch"])
        self.assertEqual(kanban_arch.get("default_group_by"), "state")
        self.assertTrue(kanban_arch.xpath("//t[@t-name='card']"))

        # "To review" and the other filters of the plans' search view.
        plan_filters = self._get_filter_domains(
            "collection.plan", "account_payment_collection.collection_plan_view_search"
        )
        self.assertEqual(Plan.search(safe_eval(plan_filters["to_review"])), plan)
        self.assertFalse(Plan.search(safe_eval(plan_filters["active"])))
        self.assertEqual(
            Plan.search([("invoice_ids", "in", invoices[:1].ids)]).ids, plan.ids
        )

        # The action and its menu, under Invoicing > Customers, for accountants.
        action = self.env.ref("account_payment_collection.collection_plan_action")
        self.assertEqual(action.res_model, "collection.plan")
        menu = self.env.ref("account_payment_collection.collection_plan_menu")
        self.assertEqual(
            menu.parent_id, self.env.ref("account.menu_finance_receivables")
        )
        self.assertEqual(menu.action, action)
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.accountant)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.with_user(self.employee)._visible_menu_ids())

        # Invoices: filters on the blocking reason, and a group-by.
        move_filters = self._get_filter_domains(
            "account.move", "account.view_account_invoice_filter"
        )
        Move = self.env["account.move"].with_user(self.accountant)
        for filter_name, expected in (
            ("collection_plan_proposed", invoices),
            ("collection_plan_active", self.env["account.move"]),
            ("collection_disputed", disputed),
        ):
            with self.subTest(filter=filter_name):
                found = Move.search(
                    [("id", "in", all_invoices.ids)]
                    + safe_eval(move_filters[filter_name])
                )
                self.assertEqual(found, expected)
        groups = dict(
            Move._read_group(
                [("id", "in", all_invoices.ids)],
                ["collection_block_reason"],
                ["__count"],
            )
        )
        self.assertEqual(groups, {"plan_proposed": 2, "dispute": 1, False: 1})
        search_arch = etree.fromstring(
            Move.get_views(
                [(self.env.ref("account.view_account_invoice_filter").id, "search")]
            )["views"]["search"]["arch"]
        )
        self.assertEqual(
            search_arch.xpath(
                "//filter[@name='group_by_collection_block_reason']/@context"
            ),
            ["{'group_by': 'collection_block_reason'}"],
        )

        # The invoice list shows the blocking reason, the invoice form its plan.
        invoice_views = Move.get_views(
            [
                (self.env.ref("account.view_out_invoice_tree").id, "list"),
                (self.env.ref("account.view_move_form").id, "form"),
            ]
        )["views"]
        column = etree.fromstring(invoice_views["list"]["arch"]).xpath(
            "//field[@name='collection_block_reason']"
        )
        self.assertEqual(len(column), 1)
        self.assertEqual(column[0].get("optional"), "show")
        invoice_form = etree.fromstring(invoice_views["form"]["arch"])
        self.assertEqual(
            invoice_form.xpath(
                "//div[@name='button_box']/button[@name='action_view_collection_plan']"
                "/@invisible"
            ),
            ["not collection_plan_id"],
        )
        self.assertEqual(
            invoice_form.xpath("//field[@name='collection_block_reason']/@readonly"),
            ["collection_block_reason in ('plan_proposed', 'plan_active')"],
        )
        banners = invoice_form.xpath(
            "//div[contains(@class, 'o_account_payment_collection_plan_alert')]"
        )
        self.assertEqual(len(banners), 2)
        self.assertIn("A payment plan was proposed", "".join(banners[0].itertext()))

        # From the invoice to the plan.
        action = Move.browse(invoices[0].id).action_view_collection_plan()
        self.assertEqual(action["res_model"], "collection.plan")
        self.assertEqual(action["view_mode"], "form")
        self.assertEqual(self.env[action["res_model"]].browse(action["res_id"]), plan)

        # The settings show the plan options.
        settings_arch = etree.fromstring(
            self.env["res.config.settings"].get_views([(False, "form")])["views"][
                "form"
            ]["arch"]
        )
        setting = settings_arch.xpath(
            "//block[@id='pay_invoice_online_setting_container']"
            "//setting[@id='collection_allow_plan_proposal_setting']"
        )
        self.assertEqual(len(setting), 1)
        for field_name in (
            "collection_allow_plan_proposal",
            "collection_plan_max_installments",
            "collection_plan_max_days",
            "collection_plan_min_amount",
            "collection_plan_reason_required",
            "collection_plan_allow_deferred",
            "collection_plan_allow_weekly",
            "collection_plan_allow_monthly",
            "collection_plan_break_days",
        ):
            self.assertTrue(setting[0].xpath(f".//field[@name='{field_name}']"))

    def test_approve_from_invoice_tour(self):
        """An accountant finds the blocked invoice, opens the proposal from it,
        checks the schedule and approves: the customer receives the schedule."""
        plan, invoices = self._propose()
        self.assertEqual(
            plan.activity_ids.summary,
            ("Review the payment plan proposed by Boulangerie Martin"),
        )

        self.start_tour(
            "/odoo",
            "account_payment_collection_plan_backoffice",
            login=self.accountant.login,
        )

        self.env.invalidate_all()
        self.assertEqual(plan.state, "active")
        self.assertEqual(
            set(invoices.mapped("collection_block_reason")), {"plan_active"}
        )
        self.assertEqual(invoices.collection_plan_id, plan)
        self.assertNotIn("planned", plan.installment_ids.mapped("state"))
        self.assertFalse(plan.activity_ids, "the review activity is done")
        # The approval is traced, by the accountant.
        state_tracking = plan.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "state"
        )
        self.assertEqual(
            state_tracking.mail_message_id.author_id, self.accountant.partner_id
        )
        self.assertEqual(state_tracking.new_value_char, "Active")
        # The customer receives the schedule by e-mail.
        approval = self._customer_messages(plan, ": your payment plan is approved")
        self.assertEqual(len(approval), 1)
        self.assertEqual(approval.author_id, self.accountant.partner_id)
        self.assertIn(
            self.customer,
            approval.notification_ids.filtered(
                lambda n: n.notification_type == "email"
            ).res_partner_id,
        )
        body = str(approval.body)
        self.assertIn(plan.name, body)
        self.assertEqual(body.count("100.00"), 2)
        self.assertEqual(body.count("100.01"), 1)

    def test_refuse_through_wizard(self):
        """Refusing asks for a reason, which the customer receives; the invoices
        are unblocked. Without a reason nothing happens."""
        plan, invoices = self._propose()
        action = plan.with_user(self.accountant).action_refuse()
        self.assertEqual(action["res_model"], "collection.plan.reason")
        self.assertEqual(action["target"], "new")
        Wizard = (
            self.env[action["res_model"]]
            .with_user(self.accountant)
            .with_context(**action["context"])
        )
        messages_before = plan.message_ids

        # Without a reason: refused with a message, nothing stored.
        with self.assertRaisesRegex(AssertionError, "(?i)reason"):
            Form(Wizard).save()
        for reason in ("", "   \n "):
            with self.subTest(reason=reason):
                wizard = Wizard.create({"reason": reason})
                self.assertEqual(wizard.plan_ids, plan)
                with self.assertRefused(
                    UserError, "Tell the customer why the plan is refused"
                ):
                    wizard.action_confirm()
                self.assertEqual(plan.state, "proposed")
                self.assertFalse(plan.refusal_reason)
                self.assertEqual(
                    set(invoices.mapped("collection_block_reason")),
                    {"plan_proposed"},
                )
                self.assertEqual(invoices.collection_plan_id, plan)
                self.assertEqual(plan.message_ids, messages_before)
                self.assertTrue(plan.activity_ids)

        # With a reason.
        reason = "Your account is already 90 days overdue: please call us."
        wizard = Wizard.create({"reason": reason})
        self.assertEqual(
            wizard.action_confirm(), {"type": "ir.actions.act_window_close"}
        )
        self.env.invalidate_all()
        self.assertEqual(plan.state, "refused")
        self.assertEqual(plan.refusal_reason, reason)
        self.assertEqual(set(invoices.mapped("collection_block_reason")), {False})
        self.assertFalse(invoices.collection_plan_id)
        self.assertFalse(plan.activity_ids)
        self.assertTrue(all(invoice._has_to_be_paid() for invoice in invoices))
        refusal = self._customer_messages(plan, ": your payment plan proposal")
        self.assertEqual(len(refusal), 1)
        self.assertEqual(refusal.author_id, self.accountant.partner_id)
        self.assertIn(reason, str(refusal.body))
        # The invoices no longer show up as blocked.
        move_filters = self._get_filter_domains(
            "account.move", "account.view_account_invoice_filter"
        )
        self.assertFalse(
            self.env["account.move"].search(
                [("id", "in", invoices.ids)]
                + safe_eval(move_filters["collection_plan_proposed"])
            )
        )
        # A refused plan cannot be approved any more.
        with self.assertRefused(UserError, "Only proposed plans can be approved"):
            plan.with_user(self.accountant).action_approve()
        self.assertEqual(plan.state, "refused")
