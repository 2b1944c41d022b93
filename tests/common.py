# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import contextmanager
from datetime import date

from odoo.fields import Command
from odoo.tests import new_test_user

from odoo.addons.account_payment.tests.common import AccountPaymentCommon


class CollectionCommon(AccountPaymentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.email = "compta@company.example.com"
        MethodLine = cls.env["account.payment.method.line"]
        lines = MethodLine.search(
            [("offline_payment_type", "!=", False), ("company_id", "=", cls.company.id)]
        )
        cls.cheque_line = lines.filtered(
            lambda line: line.offline_payment_type == "cheque"
        )
        cls.transfer_line = lines.filtered(
            lambda line: line.offline_payment_type == "transfer"
        )
        cls.cash_line = lines.filtered(lambda line: line.offline_payment_type == "cash")
        cls.money_order_line = lines.filtered(
            lambda line: line.offline_payment_type == "money_order"
        )
        cls.demo_provider = cls._prepare_provider(
            "demo", company=cls.company, update_values={"state": "test"}
        )
        cls.card_method = cls.env.ref("payment.payment_method_card")
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Boulangerie Martin",
                "is_company": True,
                "email": "compta@boulangerie.example.com",
                "street": "12 rue des Lilas",
                "zip": "69003",
                "city": "Lyon",
            }
        )
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Claire Martin",
                "parent_id": cls.customer.id,
                "email": "claire@boulangerie.example.com",
            }
        )
        cls.other_customer = cls.env["res.partner"].create(
            {
                "name": "Atelier Dupont",
                "is_company": True,
                "email": "a@dupont.example.com",
            }
        )
        cls.token = cls._create_collection_token(cls.customer)
        cls.Plan = cls.env["collection.plan"]

    @classmethod
    def _make_user(cls, login, groups, company=None, **values):
        """A user of ``company`` (the test company by default) only."""
        company = company or cls.company
        return new_test_user(
            cls.env,
            login,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
            **values,
        )

    @classmethod
    def _enable_plans(cls, **values):
        """Let the customers of the test company propose payment plans."""
        cls.company.write(
            {
                "collection_allow_plan_proposal": True,
                "collection_plan_max_installments": 12,
                "collection_plan_max_days": 365,
                "collection_plan_min_amount": 20.0,
                **values,
            }
        )

    @staticmethod
    def _plan_values(**values):
        """The choices of a customer proposing a plan: three monthly
        installments on the last day of the month from December 2026."""
        return {
            "plan_kind": "monthly",
            "installment_count": 3,
            "day_of_month": 31,
            "first_date": date(2026, 12, 1),
            "reason": "Cash flow after a difficult season",
            **values,
        }

    @classmethod
    def _propose_plan(cls, invoices, partner=None, **values):
        """Propose a plan as the customer (or ``partner``) for ``invoices``.

        :return: the plan, without superuser rights
        """
        plan = cls.Plan._create_proposal(
            partner or invoices.commercial_partner_id,
            invoices,
            cls._plan_values(**values),
        )
        return plan.sudo(False)

    def setUp(self):
        super().setUp()
        if getattr(self, "post_process_patcher", None):
            # Let the payment framework really book the payments.
            self.post_process_patcher.stop()

    @classmethod
    def _create_collection_token(cls, partner, state="done", **values):
        return cls.env["payment.token"].create(
            {
                "provider_id": cls.demo_provider.id,
                "payment_method_id": cls.card_method.id,
                "partner_id": partner.id,
                "payment_details": "4242",
                "provider_ref": f"demo-{partner.id}-{state}",
                "demo_simulated_state": state,
                **values,
            }
        )

    @classmethod
    def _make_invoice(cls, partner, amount=100.0, post=True, due_date=None):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": "2026-11-01",
                "invoice_date_due": due_date or "2026-12-01",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Maintenance",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _make_installment_invoice(cls, partner, invoice_date, amount=1000.0):
        """A posted invoice with two installments: 30% on ``invoice_date`` and
        70% 30 days later."""
        term = cls.env["account.payment.term"].create(
            {
                "name": "30% now, 70% in 30 days",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 30.0, "nb_days": 0}
                    ),
                    Command.create(
                        {"value": "percent", "value_amount": 70.0, "nb_days": 30}
                    ),
                ],
            }
        )
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Maintenance",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    @contextmanager
    def assertRefused(self, exception, regex):
        """Assert that the block is refused with a message matching ``regex``,
        and that it stored nothing: the database is rolled back to before the
        block and the cache forgotten."""
        with self.assertRaisesRegex(exception, regex), self.env.cr.savepoint():
            yield
        self.env.invalidate_all()

    def _reread(self, *records):
        """Forget the cache so that assertions read what the database holds
        (after a refused write, for instance)."""
        self.env.invalidate_all()
        return records

    def _set_offline(self, partner, method_line=None):
        partner.write(
            {
                "collection_mode": "offline",
                "property_inbound_payment_method_line_id": (
                    method_line or self.cheque_line
                ).id,
            }
        )

    def _set_automatic(self, partner, token=None):
        partner.write(
            {
                "collection_mode": "automatic",
                "collection_token_id": (token or self.token).id,
            }
        )
