# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from xmlrpc.client import Fault

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
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
        with self.assertRaises(Fault) as refused:
            self._rpc(
                "apc_accountant",
                "write",
                [self.customer.id],
                {"collection_mode": "automatic"},
            )  # no token
        self.assertIn("Save my payment details", refused.exception.faultString)
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
