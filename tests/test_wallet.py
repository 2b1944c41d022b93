# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger, sql

from .common import CollectionCommon


class WalletCommon(CollectionCommon):
    """Wallet fixtures: the company's wallet account, its bank journal, an
    accountant, and top-ups booked as the payment links book them (no test
    here)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wallet_account = cls.company.collection_wallet_account_id
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.misc_journal = cls.company_data["default_journal_misc"]
        cls.accountant = cls._make_user(
            "apc_wallet_accountant", "base.group_user,account.group_account_invoice"
        )
        cls.salesman = cls._make_user(
            "apc_wallet_salesman", "base.group_user,sales_team.group_sale_salesman"
        )

    @classmethod
    def _collection_top_up(cls, partner, amount, post=True, company=None):
        """A wallet top-up as the lead's payment link books it: one posted
        inbound customer payment of the commercial partner on the bank journal,
        to the company's wallet account."""
        company = company or cls.company
        journal = cls.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )
        payment = (
            cls.env["account.payment"]
            .with_company(company)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.commercial_partner_id.id,
                    "amount": amount,
                    "journal_id": journal.id,
                    "destination_account_id": (company.collection_wallet_account_id.id),
                    "memo": "Wallet top-up",
                }
            )
        )
        if post:
            payment.action_post()
        return payment

    def _wallet_entry(self, partner, amount, account=None, post=True, **line_values):
        """A miscellaneous entry crediting (amount > 0) or debiting the wallet
        account of ``partner`` (a contact, or no partner with ``False``)."""
        counterpart = self.company_data["default_account_revenue"]
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.misc_journal.id,
                "date": "2026-11-15",
                "line_ids": [
                    Command.create(
                        {
                            "name": "Wallet adjustment",
                            "account_id": (account or self.wallet_account).id,
                            "partner_id": partner.id if partner else False,
                            "balance": -amount,
                            **line_values,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Counterpart",
                            "account_id": counterpart.id,
                            "balance": amount,
                        }
                    ),
                ],
            }
        )
        if post:
            entry.action_post()
        return entry

    def _balance(self, partner, company=None):
        self.env.invalidate_all()
        return partner.with_company(company or self.company).collection_wallet_balance

    def _wallet_entries(self, invoice):
        """The wallet entries reconciled with ``invoice``."""
        return invoice._get_reconciled_amls().move_id.filtered(
            lambda move: move.move_type == "entry"
            and move._collection_get_wallet_lines()
        )


@tagged("post_install", "-at_install")
class TestWalletSetup(WalletCommon):
    def test_company_gets_wallet_account_and_journal(self):
        account = self.wallet_account
        self.assertTrue(account, "the chart's loading gives the company its account")
        self.assertEqual(account.account_type, "liability_current")
        self.assertFalse(account.reconcile)
        self.assertEqual(account.with_context(lang="en_US").name, "Customer Wallets")
        self.assertIn(self.company, account.company_ids)
        # A code in the chart's format, next to the current liabilities
        # (generic chart: 201000).
        self.assertEqual(account.code, "201001")
        self.assertEqual(self.company.collection_wallet_journal_id.type, "general")
        self.assertEqual(
            self.company._collection_get_wallet_journal(), self.misc_journal
        )

    def test_new_company_gets_its_own_account(self):
        company = self._create_company(name="Wallet Second Company")
        self.assertTrue(company.collection_wallet_account_id)
        self.assertNotEqual(company.collection_wallet_account_id, self.wallet_account)
        self.assertEqual(company.collection_wallet_account_id.company_ids, company)

    def test_french_chart_uses_4191(self):
        """Where the chart has 4191 (French charts: xmlid pcg_4191), it is the
        wallet account; nothing is created."""
        company = self._create_company(name="Société Cagnotte")
        created = company.collection_wallet_account_id
        company.collection_wallet_account_id = False
        account_4191 = (
            self.env["account.account"]
            .with_company(company)
            .create(
                {
                    "name": "Clients - Avances et acomptes reçus sur commandes",
                    "code": "419100",
                    "account_type": "liability_current",
                    "reconcile": True,
                    "company_ids": [Command.set(company.ids)],
                }
            )
        )
        self.env["ir.model.data"].create(
            {
                "module": "account",
                "name": f"{company.id}_pcg_4191",
                "model": "account.account",
                "res_id": account_4191.id,
            }
        )
        accounts_before = self.env["account.account"].search_count([])
        company._collection_ensure_wallet_setup()
        self.assertEqual(company.collection_wallet_account_id, account_4191)
        self.assertEqual(self.env["account.account"].search_count([]), accounts_before)
        self.assertNotEqual(created, account_4191)

    def test_setup_is_idempotent(self):
        accounts_before = self.env["account.account"].search_count([])
        self.company._collection_ensure_wallet_setup()
        self.assertEqual(self.company.collection_wallet_account_id, self.wallet_account)
        self.assertEqual(self.env["account.account"].search_count([]), accounts_before)

    def test_wallet_account_settings(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.collection_wallet_account_id, self.wallet_account)
        receivable = self.company_data["default_account_receivable"]
        with self.assertRefused(ValidationError, "cannot be a receivable"):
            self.company.collection_wallet_account_id = receivable
        # Another account while customers have a balance: their wallets would
        # vanish.
        self._collection_top_up(self.customer, 10.0)
        other = self.env["account.account"].create(
            {
                "name": "Other wallets",
                "code": "2999",
                "account_type": "liability_current",
                "company_ids": [Command.set(self.company.ids)],
            }
        )
        with self.assertRefused(UserError, "have a wallet balance"):
            self.company.collection_wallet_account_id = other
        self.assertEqual(self.company.collection_wallet_account_id, self.wallet_account)

    def test_views_keep_the_other_features(self):
        """The wallet's views extend the forms next to the add-on's other
        views, they do not replace them."""
        for model, expected in (
            (
                "res.partner",
                (
                    "action_collection_view_wallet",
                    "action_view_collection_registrations",
                ),
            ),
            (
                "account.move",
                ("action_collection_pay_with_wallet", "action_collection_charge_now"),
            ),
            (
                "res.config.settings",
                ("collection_wallet_account_id", "collection_auto_send_offline"),
            ),
        ):
            user = (
                self.env.ref("base.user_admin")
                if model == "res.config.settings"
                else self.accountant
            )
            arch = self.env[model].with_user(user).get_view(view_type="form")["arch"]
            for name in expected:
                with self.subTest(model=model, name=name):
                    self.assertIn(name, arch)

    def test_balance_index_exists(self):
        self.assertTrue(
            sql.index_exists(self.env.cr, "account_move_line_collection_wallet_idx")
        )


@tagged("post_install", "-at_install")
class TestWalletBalance(WalletCommon):
    def test_balance_is_read_from_posted_items(self):
        self._collection_top_up(self.customer, 100.0)
        self._collection_top_up(self.customer, 30.0, post=False)  # draft: no
        self.assertEqual(self._balance(self.customer), 100.0)
        # Items of its contacts count for the customer, seen from either.
        self._wallet_entry(self.contact, 20.25)
        self.assertEqual(self._balance(self.customer), 120.25)
        self.assertEqual(self._balance(self.contact), 120.25)
        # Another customer's wallet is theirs.
        self._collection_top_up(self.other_customer, 50.0)
        self.assertEqual(self._balance(self.other_customer), 50.0)
        self.assertEqual(self._balance(self.customer), 120.25)
        # Other accounts of the customer do not count.
        self._wallet_entry(
            self.customer, 500.0, account=self.company_data["default_account_payable"]
        )
        self.assertEqual(self._balance(self.customer), 120.25)

    def test_down_payments_on_the_wallet_account_are_not_wallet(self):
        """French charts book sale's down payments on 4191 too: a down payment
        invoice and the final invoice deducting it are not the wallet's."""
        self._collection_top_up(self.customer, 40.0)

        def invoice(*lines):
            move = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": "2026-11-01",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": name,
                                "quantity": 1,
                                "price_unit": amount,
                                "account_id": account.id,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for name, amount, account in lines
                    ],
                }
            )
            move.action_post()
            return move

        revenue = self.company_data["default_account_revenue"]
        # The down payment invoice: the wallet account credited.
        invoice(("Down payment", 300.0, self.wallet_account))
        self.assertEqual(self._balance(self.customer), 40.0)
        # The final invoice deducts it (debited): accepted, the wallet intact.
        invoice(
            ("Cake", 1000.0, revenue), ("Down payment", -300.0, self.wallet_account)
        )
        self.assertEqual(self._balance(self.customer), 40.0)

    def test_balance_is_per_company(self):
        company = self._create_company(name="Wallet Branch Office")
        self.env.user.company_ids |= company
        self._collection_top_up(self.customer, 40.0, company=company)
        self._collection_top_up(self.customer, 15.0)
        self.assertEqual(self._balance(self.customer), 15.0)
        self.assertEqual(self._balance(self.customer, company), 40.0)

    def test_balance_of_many_customers_in_one_query(self):
        self._collection_top_up(self.customer, 10.0)
        self._collection_top_up(self.other_customer, 20.0)
        partners = self.customer | self.contact | self.other_customer
        partners.mapped("commercial_partner_id")
        self.env.flush_all()
        queries = self.env.cr.sql_log_count
        partners.invalidate_recordset(["collection_wallet_balance"])
        balances = partners.mapped("collection_wallet_balance")
        self.assertEqual(self.env.cr.sql_log_count - queries, 1)
        self.assertEqual(balances, [10.0, 10.0, 20.0])

    def test_no_balance_without_wallet_items(self):
        self.assertEqual(self._balance(self.customer), 0.0)

    def test_history_newest_first_with_balance_after(self):
        self._collection_top_up(self.customer, 100.0)
        invoice = self._make_invoice(self.customer, 30.0)
        invoice.action_collection_pay_with_wallet()
        self._collection_top_up(self.customer, 5.5)
        action = self.customer.action_collection_view_wallet()
        Line = self.env["account.move.line"]
        lines = Line.search_fetch(
            action["domain"],
            ["collection_wallet_running_balance", "credit", "debit"],
            order="date desc, id desc",
        )
        self.assertEqual(lines.mapped("credit"), [5.5, 0.0, 100.0])
        self.assertEqual(lines.mapped("debit"), [0.0, 30.0, 0.0])
        self.assertEqual(
            lines.mapped("collection_wallet_running_balance"), [75.5, 70.0, 100.0]
        )
        items, count = self.customer._collection_get_wallet_history(self.company)
        self.assertEqual(count, 3)
        self.assertEqual([item[1] for item in items], [75.5, 70.0, 100.0])
        self.assertEqual([item[0] for item in items], list(lines))


@tagged("post_install", "-at_install")
class TestWalletPay(WalletCommon):
    def test_pay_partially_when_the_balance_is_short(self):
        self._collection_top_up(self.customer, 60.0)
        invoice = self._make_invoice(self.customer, 100.0)
        self.assertTrue(invoice.collection_can_pay_with_wallet)
        invoice.with_user(self.accountant).action_collection_pay_with_wallet()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 40.0)
        self.assertEqual(self._balance(self.customer), 0.0)
        entry = self._wallet_entries(invoice)
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.state, "posted")
        self.assertEqual(entry.journal_id, self.misc_journal)
        wallet_line = entry.line_ids.filtered(
            lambda line: line.account_id == self.wallet_account
        )
        receivable_line = entry.line_ids - wallet_line
        self.assertRecordValues(
            wallet_line,
            [{"debit": 60.0, "credit": 0.0, "partner_id": self.customer.id}],
        )
        self.assertRecordValues(
            receivable_line,
            [
                {
                    "debit": 0.0,
                    "credit": 60.0,
                    "partner_id": self.customer.id,
                    "account_id": invoice.line_ids.filtered(
                        lambda line: line.account_type == "asset_receivable"
                    ).account_id.id,
                    "reconciled": True,
                }
            ],
        )
        self.assertFalse(invoice.collection_can_pay_with_wallet)
        message = invoice.message_ids.filtered(
            lambda message: "paid from the wallet" in (message.body or "")
        )
        self.assertEqual(len(message), 1)
        self.assertRegex(str(message.body), r"\$(\xa0|&nbsp;| )60\.00")
        self.assertIn(entry.name, message.body)

    def test_pay_in_full_to_the_cent(self):
        self._collection_top_up(self.customer, 150.55)
        invoice = self._make_invoice(self.customer, 100.01)
        action = invoice.action_collection_pay_with_wallet()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(self._balance(self.customer), 50.54)
        self.assertEqual(self._wallet_entries(invoice).amount_total, 100.01)
        self.assertIn("$\xa0100.01", action["params"]["message"])

    def test_pay_a_contacts_invoice_from_the_customers_wallet(self):
        self._collection_top_up(self.customer, 80.0)
        invoice = self._make_invoice(self.contact, 50.0)
        invoice.action_collection_pay_with_wallet()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self._balance(self.customer), 30.0)
        self.assertEqual(
            self._wallet_entries(invoice).line_ids.partner_id, self.customer
        )

    def test_installments_are_paid_oldest_first(self):
        self._collection_top_up(self.customer, 500.0)
        invoice = self._make_installment_invoice(self.customer, "2026-11-01", 1000.0)
        invoice.action_collection_pay_with_wallet()
        receivables = invoice.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).sorted("date_maturity")
        self.assertEqual(receivables.mapped("amount_residual"), [0.0, 500.0])
        self.assertEqual(invoice.amount_residual, 500.0)
        self.assertEqual(self._balance(self.customer), 0.0)

    def test_two_clicks_pay_once(self):
        self._collection_top_up(self.customer, 150.0)
        invoice = self._make_invoice(self.customer, 100.0)
        invoice.action_collection_pay_with_wallet()
        with self.assertRefused(UserError, "it is paid"):
            invoice.action_collection_pay_with_wallet()
        self.assertEqual(len(self._wallet_entries(invoice)), 1)
        self.assertEqual(self._balance(self.customer), 50.0)

    def test_two_clicks_on_a_short_balance_pay_once(self):
        self._collection_top_up(self.customer, 60.0)
        invoice = self._make_invoice(self.customer, 100.0)
        invoice.action_collection_pay_with_wallet()
        with self.assertRefused(UserError, "wallet of Boulangerie Martin is empty"):
            invoice.action_collection_pay_with_wallet()
        self.assertEqual(len(self._wallet_entries(invoice)), 1)
        self.assertEqual(invoice.amount_residual, 40.0)

    def test_the_balance_is_not_spent_twice_across_invoices(self):
        self._collection_top_up(self.customer, 100.0)
        first = self._make_invoice(self.customer, 70.0)
        second = self._make_invoice(self.customer, 70.0)
        (first | second).action_collection_pay_with_wallet()
        self.assertEqual(first.amount_residual, 0.0)
        self.assertEqual(second.amount_residual, 40.0)
        self.assertEqual(self._balance(self.customer), 0.0)

    def test_refusals(self):
        self._collection_top_up(self.customer, 100.0)
        entries_before = self.env["account.move"].search_count([])
        draft = self._make_invoice(self.customer, 10.0, post=False)
        paid = self._make_invoice(self.customer, 10.0)
        paid.action_collection_pay_with_wallet()
        entries_before = self.env["account.move"].search_count([])
        on_hold = self._make_invoice(self.customer, 10.0)
        on_hold.collection_block_reason = "dispute"
        other_currency = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": "2026-11-01",
                "currency_id": self.currency_euro.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Maintenance",
                            "price_unit": 10.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        other_currency.action_post()
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": "2026-11-01",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Maintenance",
                            "price_unit": 10.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        no_wallet = self._make_invoice(self.other_customer, 10.0)
        entries_before = self.env["account.move"].search_count([])
        cases = (
            (draft, "it is not posted"),
            (paid, "it is paid"),
            (on_hold, r"it is on hold \(Disputed\)"),
            (other_currency, "it is in EUR, the wallet in USD"),
            (refund, "only customer invoices"),
            (no_wallet, "wallet of Atelier Dupont is empty"),
        )
        for invoice, message in cases:
            with self.subTest(message=message):
                self.assertFalse(invoice.collection_can_pay_with_wallet)
                with self.assertRefused(UserError, message):
                    invoice.action_collection_pay_with_wallet()
        self.assertEqual(self.env["account.move"].search_count([]), entries_before)
        self.assertEqual(self._balance(self.customer), 90.0)

    def test_a_debit_in_progress_is_not_paid_twice(self):
        self._collection_top_up(self.customer, 100.0)
        invoice = self._make_invoice(self.customer, 50.0)
        invoice.collection_state = "pending"
        self.assertFalse(invoice.collection_can_pay_with_wallet)
        with self.assertRefused(UserError, "automatic debit of it is in progress"):
            invoice.action_collection_pay_with_wallet()

    def test_only_accountants(self):
        self._collection_top_up(self.customer, 100.0)
        invoice = self._make_invoice(self.customer, 50.0)
        with self.assertRefused(UserError, "Only accountants"):
            invoice.with_user(self.salesman).action_collection_pay_with_wallet()
        self.assertEqual(invoice.amount_residual, 50.0)


@tagged("post_install", "-at_install")
class TestWalletRefund(WalletCommon):
    def _wizard(self, user=None, **values):
        partner = self.customer.with_user(user or self.accountant)
        action = partner.action_collection_refund_wallet()
        return (
            self.env[action["res_model"]]
            .with_user(user or self.accountant)
            .with_context(**action["context"])
            .create({"amount": 40.0, **values})
        )

    def test_refund_books_an_outbound_payment_from_the_wallet(self):
        self._collection_top_up(self.customer, 100.0)
        wizard = self._wizard(amount=40.0, journal_id=self.bank_journal.id)
        self.assertEqual(wizard.balance, 100.0)
        self.assertEqual(wizard.partner_id, self.customer)
        action = wizard.action_refund()
        payment = self.env["account.payment"].browse(action["res_id"])
        self.assertRecordValues(
            payment,
            [
                {
                    "payment_type": "outbound",
                    "partner_type": "customer",
                    "partner_id": self.customer.id,
                    "amount": 40.0,
                    "journal_id": self.bank_journal.id,
                    "destination_account_id": self.wallet_account.id,
                }
            ],
        )
        self.assertEqual(payment.move_id.state, "posted")
        wallet_line = payment.move_id.line_ids.filtered(
            lambda line: line.account_id == self.wallet_account
        )
        self.assertRecordValues(
            wallet_line, [{"debit": 40.0, "partner_id": self.customer.id}]
        )
        self.assertEqual(self._balance(self.customer), 60.0)
        self.assertIn("Wallet refunded", self.customer.message_ids[0].body)

    def test_refund_from_a_contact_refunds_the_customer(self):
        self._collection_top_up(self.customer, 100.0)
        action = self.contact.with_user(
            self.accountant
        ).action_collection_refund_wallet()
        self.assertEqual(action["context"]["default_partner_id"], self.customer.id)

    def test_refusals(self):
        self._collection_top_up(self.customer, 100.0)
        payments_before = self.env["account.payment"].search_count([])
        for amount, message in (
            (0.0, "greater than zero"),
            (-5.0, "greater than zero"),
            (100.01, r"has \$\xa0100.00 in their wallet"),
        ):
            with self.subTest(amount=amount):
                wizard = self._wizard(amount=amount)
                with self.assertRefused(UserError, message):
                    wizard.action_refund()
        with self.assertRefused(UserError, "bank or cash journal"):
            self._wizard(journal_id=self.misc_journal.id).action_refund()
        with self.assertRefused(UserError, "Only accountants"):
            self._wizard(user=self.salesman)
        self.assertEqual(self.env["account.payment"].search_count([]), payments_before)
        self.assertEqual(self._balance(self.customer), 100.0)

    def test_refund_all_then_nothing_more(self):
        self._collection_top_up(self.customer, 100.0)
        self._wizard(amount=100.0).action_refund()
        self.assertEqual(self._balance(self.customer), 0.0)
        with self.assertRefused(UserError, "cannot be refunded"):
            self._wizard(amount=0.01).action_refund()


@tagged("post_install", "-at_install")
class TestWalletGuard(WalletCommon):
    """Negative wallets are impossible, whatever posts or resets the entries."""

    def test_resetting_a_spent_top_up_is_refused(self):
        top_up = self._collection_top_up(self.customer, 100.0)
        invoice = self._make_invoice(self.customer, 100.0)
        invoice.action_collection_pay_with_wallet()
        with (
            mute_logger("odoo.models"),
            self.assertRefused(
                ValidationError,
                r"wallet of Boulangerie Martin cannot go below zero: this operation "
                r"would leave it at \S+\s?-\W?100\.00",
            ),
        ):
            top_up.action_draft()
        self.assertEqual(top_up.move_id.state, "posted")
        self.assertEqual(self._balance(self.customer), 0.0)

    def test_resetting_an_unspent_top_up_is_allowed(self):
        top_up = self._collection_top_up(self.customer, 100.0)
        top_up.action_draft()
        top_up.action_cancel()
        self.assertEqual(self._balance(self.customer), 0.0)

    def test_resetting_a_wallet_payment_gives_the_balance_back(self):
        self._collection_top_up(self.customer, 100.0)
        invoice = self._make_invoice(self.customer, 100.0)
        invoice.action_collection_pay_with_wallet()
        entry = self._wallet_entries(invoice)
        entry.button_draft()
        self.assertEqual(self._balance(self.customer), 100.0)
        self.assertEqual(invoice.amount_residual, 100.0)
        # Posting it again takes from the wallet again: fine while it holds
        # enough.
        entry.action_post()
        self.assertEqual(self._balance(self.customer), 0.0)

    def test_debiting_an_empty_wallet_is_refused(self):
        self._collection_top_up(self.customer, 10.0)
        entry = self._wallet_entry(self.customer, -10.01, post=False)
        with self.assertRefused(ValidationError, r"would leave it at \S+\s?-\W?0\.01"):
            entry.action_post()
        self.assertEqual(entry.state, "draft")
        # Up to the balance is fine.
        entry = self._wallet_entry(self.contact, -10.0)
        self.assertEqual(self._balance(self.customer), 0.0)

    def test_wallet_items_without_customer_are_refused(self):
        entry = self._wallet_entry(False, 10.0, post=False)
        with self.assertRefused(ValidationError, "without a customer"):
            entry.action_post()
        self.assertEqual(entry.state, "draft")

    def test_moving_a_spent_top_up_to_another_customer_is_refused(self):
        top_up = self._collection_top_up(self.customer, 100.0)
        self._make_invoice(self.customer, 100.0).action_collection_pay_with_wallet()
        wallet_line = top_up.move_id.line_ids.filtered(
            lambda line: line.account_id == self.wallet_account
        )
        with self.assertRefused(ValidationError, "Boulangerie Martin cannot go below"):
            wallet_line.partner_id = self.other_customer
        with self.assertRefused(ValidationError, "without a customer"):
            wallet_line.partner_id = False
        self.assertEqual(self._balance(self.other_customer), 0.0)

    def test_reversing_a_spent_top_up_is_refused(self):
        top_up = self._collection_top_up(self.customer, 100.0)
        self._make_invoice(self.customer, 60.0).action_collection_pay_with_wallet()
        with self.assertRefused(ValidationError, r"would leave it at \S+\s?-\W?60\.00"):
            top_up.move_id._reverse_moves(cancel=True)
        self.assertEqual(self._balance(self.customer), 40.0)
