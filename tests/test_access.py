# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from xmlrpc.client import Fault

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestCollectionAccess(CollectionCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_values = {
            "company_id": cls.company.id,
            "company_ids": [(6, 0, cls.company.ids)],
        }
        cls.accountant = new_test_user(
            cls.env,
            "apc_accountant",
            groups="base.group_partner_manager,account.group_account_invoice",
            **company_values,
        )
        cls.salesman = new_test_user(
            cls.env,
            "apc_salesman",
            groups="base.group_partner_manager,sales_team.group_sale_salesman",
            **company_values,
        )
        cls.portal = new_test_user(
            cls.env,
            "apc_portal",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
            **company_values,
        )

    def _rpc(self, login, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            self.env["res.users"].search([("login", "=", login)]).id,
            login,
            "res.partner",
            method,
            list(args),
            kwargs,
        )

    def test_salesman_reads_but_cannot_edit(self):
        self._set_offline(self.customer)
        customer = self.customer.with_user(self.salesman)
        self.assertEqual(customer.collection_mode, "offline")
        self.assertEqual(customer.collection_summary, "Offline: Cheque")
        self.assertFalse(customer.collection_can_edit)
        with self.assertRaises(AccessError):
            customer.write({"collection_mode": False})
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.salesman).create(
                {"name": "New", "collection_mode": "offline"}
            )
        # Salesmen still create contacts, which follow their company.
        contact = (
            self.env["res.partner"]
            .with_user(self.salesman)
            .create({"name": "New contact", "parent_id": self.customer.id})
        )
        self.assertEqual(contact.collection_mode, "offline")
        self.assertEqual(self.customer.collection_mode, "offline")

    @mute_logger("odoo.http", "odoo.sql_db")
    def test_accountant_api_applies_the_same_rules(self):
        foreign_token = self._create_collection_token(self.other_customer)
        with self.assertRaises(Fault) as refused:
            self._rpc(
                "apc_accountant",
                "write",
                [self.customer.id],
                {
                    "collection_mode": "automatic",
                    "collection_token_id": foreign_token.id,
                },
            )
        self.assertIn("belongs to another customer", refused.exception.faultString)
        with self.assertRaises(Fault) as refused:
            self._rpc(
                "apc_accountant",
                "write",
                [self.customer.id],
                {"collection_mode": "offline"},
            )
        self.assertIn("pays offline: choose how", refused.exception.faultString)
        with self.assertRaises(Fault) as refused:
            self._rpc(
                "apc_salesman",
                "write",
                [self.customer.id],
                {"collection_mode": "offline"},
            )
        self.assertIn("Only accountants", refused.exception.faultString)
        self._reread()
        self.assertFalse(self.customer.collection_mode)

        self._rpc(
            "apc_accountant",
            "write",
            [self.customer.id],
            {
                "collection_mode": "offline",
                "property_inbound_payment_method_line_id": self.cheque_line.id,
            },
        )
        [values] = self._rpc(
            "apc_salesman",
            "read",
            [self.contact.id],
            ["collection_mode", "collection_summary"],
        )
        self.assertEqual(values["collection_mode"], "offline")
        self.assertEqual(values["collection_summary"], "Offline: Cheque")
        self._rpc(
            "apc_accountant",
            "write",
            [self.customer.id],
            {"collection_mode": "automatic", "collection_token_id": self.token.id},
        )
        self.assertEqual(self.customer.collection_token_id, self.token)

    def test_portal_user_sees_nothing_of_other_customers(self):
        self._set_offline(self.customer)
        with self.assertRaises(AccessError):
            self.customer.with_user(self.portal).read(["collection_mode"])
        with self.assertRaises(AccessError):
            self.other_customer.with_user(self.portal).write(
                {"collection_mode": "offline"}
            )
        self.assertFalse(
            self.env["res.partner"]
            .with_user(self.portal)
            .search([("collection_mode", "=", "offline")])
        )

        # Payment plans: the portal customer (Atelier Dupont) sees its own plan,
        # its installments and its invoices, nothing of Boulangerie Martin's.
        self._enable_plans()
        with freeze_time("2026-11-20"):
            own_plan = self._propose_plan(
                self._make_invoice(self.other_customer), partner=self.other_customer
            )
            other_plan = self._propose_plan(
                self._make_invoice(self.customer), partner=self.customer
            )
        for rule_xmlid, own, other, fname in [
            ("collection_plan_rule_portal", own_plan, other_plan, "state"),
            (
                "collection_plan_installment_rule_portal",
                own_plan.installment_ids,
                other_plan.installment_ids,
                "date",
            ),
            (
                "collection_plan_invoice_rule_portal",
                own_plan.invoice_link_ids,
                other_plan.invoice_link_ids,
                "is_open",
            ),
        ]:
            with self.subTest(model=own._name):
                self._assert_rule_hides(rule_xmlid, self.portal, own, other, fname)

    def _assert_rule_hides(self, rule_xmlid, user, visible, hidden, fname):
        """Assert that ``user`` finds and reads ``visible`` but neither finds nor
        reads ``hidden``, and that the rule ``rule_xmlid`` is what hides them:
        without it, ``user`` finds them."""
        self.assertTrue(hidden)
        Model = self.env[hidden._name].with_user(user)
        records = visible | hidden
        domain = [("id", "in", records.ids)]
        self.assertEqual(Model.search(domain), visible.with_user(user))
        self.assertFalse(Model.search([]) & hidden)
        self.assertFalse(Model.search_count([("id", "in", hidden.ids)]))
        if visible:
            self.assertTrue(all(visible.with_user(user).read([fname])))
        with self.assertRaises(AccessError):
            hidden.with_user(user).read([fname])
        rule = self.env.ref(f"account_payment_collection.{rule_xmlid}")
        with self.env.cr.savepoint():
            rule.active = False
            self.assertEqual(Model.search(domain), records.with_user(user))
            rule.active = True

    @freeze_time("2026-11-20")
    def test_other_company_sees_no_plan_of_this_company(self):
        """An accountant of another company neither finds nor reads the payment
        plans of this company, their installments or their invoices."""
        self._enable_plans()
        plan = self._propose_plan(self._make_invoice(self.customer))
        other_company = self.setup_other_company(name="Collection Paris")["company"]
        accountant_b = new_test_user(
            self.env,
            "apc_accountant_paris",
            groups="base.group_user,account.group_account_invoice",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        for rule_xmlid, records, fname in [
            ("collection_plan_rule_company", plan, "state"),
            ("collection_plan_installment_rule_company", plan.installment_ids, "date"),
            ("collection_plan_invoice_rule_company", plan.invoice_link_ids, "is_open"),
        ]:
            with self.subTest(model=records._name):
                self.assertTrue(
                    self.env.ref(
                        f"account_payment_collection.{rule_xmlid}",
                        raise_if_not_found=False,
                    ),
                    f"no multi-company rule {rule_xmlid}",
                )
                self._assert_rule_hides(
                    rule_xmlid, accountant_b, records.browse(), records, fname
                )

    def test_methods_and_settings_are_per_company(self):
        other_company = self.setup_other_company(name="Collection Paris")["company"]
        env_b = self.env(
            context=dict(self.env.context, allowed_company_ids=other_company.ids)
        )
        self.company.collection_auto_send_offline = True
        self._set_offline(self.customer)
        customer_b = self.customer.with_env(env_b)
        self.assertFalse(customer_b.collection_mode)
        self.assertEqual(self.customer.collection_mode, "offline")
        with self.assertRefused(ValidationError, "belongs to another company"):
            customer_b.write(
                {
                    "collection_mode": "offline",
                    "property_inbound_payment_method_line_id": self.cheque_line.id,
                }
            )
        cash_b = env_b["account.payment.method.line"].search(
            [
                ("company_id", "=", other_company.id),
                ("offline_payment_type", "=", "cash"),
            ]
        )
        customer_b.write(
            {
                "collection_mode": "offline",
                "property_inbound_payment_method_line_id": cash_b.id,
            }
        )
        self.assertEqual(
            self.customer.property_inbound_payment_method_line_id, self.cheque_line
        )
        self.assertFalse(other_company.collection_auto_send_offline)
        # A token of company A's provider cannot collect in company B.
        with self.assertRefused(ValidationError, "another company"):
            customer_b.write(
                {"collection_mode": "automatic", "collection_token_id": self.token.id}
            )
