# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Online payments integrated into accounting with their providers' exact fees:
configuration, automatic and manual integration, Stripe (balance transactions,
through the real SDK), PayPal (the capture's breakdown, through Odoo's own
requests) and GoCardless (payout items) against fakes served on 127.0.0.1,
refunds, disputes, double integration, bad input and access."""

import json

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .common import CollectionCommon
from .fake_paypal import FakePayPalMixin
from .test_gocardless import GoCardlessHttpCommon
from .test_stripe import TODAY, StripeCollectionCommon

OUR_FEES = "odoo.addons.account_payment_collection.models.payment_transaction_fees"
OUR_STRIPE_PROVIDER = (
    "odoo.addons.account_payment_collection.models.payment_provider_stripe"
)


class OnlineFeesMixin:
    """Helpers shared by the fee tests."""

    @classmethod
    def _use_outstanding_receipts(cls, provider):
        """Book the provider's payments on the company's outstanding receipts
        account (reconcilable), as a real chart does, not on the bank account."""
        company = provider.company_id
        Account = cls.env["account.account"].with_company(company)
        outstanding = Account.search(
            [("code", "=", "OUTREC"), ("company_ids", "in", company.ids)]
        ) or Account.create(
            {
                "name": "Outstanding Receipts",
                "code": "OUTREC",
                "account_type": "asset_current",
                "reconcile": True,
                "company_ids": [Command.set(company.ids)],
            }
        )
        lines = provider.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == provider
        )
        lines.payment_account_id = outstanding

    def _set_integration(self, mode):
        self.company.collection_online_integration = mode

    def _balances(self, moves):
        """The balance of each account in the posted journal items of
        ``moves``: ``{account: balance}``, zero balances left out."""
        balances = {}
        for line in moves.line_ids:
            balances[line.account_id] = balances.get(line.account_id, 0.0) + (
                line.balance
            )
        return {
            account: round(balance, 2)
            for account, balance in balances.items()
            if round(balance, 2)
        }

    def _assert_booked(self, tx, gross, fee, fee_account=None):
        """The transaction is booked once: one payment whose entry holds the
        gross on the receivable, the fee on the commission account and the net
        on the outstanding receipts account."""
        payment = tx.payment_id
        self.assertEqual(len(payment), 1)
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("payment_transaction_id", "=", tx.id)]
            ),
            1,
        )
        # Paid in Community once its invoices are paid (no bank reconciliation).
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertTrue(payment.outstanding_account_id.reconcile)
        fee_account = fee_account or tx.provider_id.collection_fee_account_id
        receivable = payment.destination_account_id
        expected = {
            receivable: -gross,
            payment.outstanding_account_id: round(gross - fee, 2),
        }
        if fee:
            expected[fee_account] = fee
        self.assertEqual(self._balances(payment.move_id), expected)
        self.assertEqual(tx.collection_integration_state, "integrated")
        self.assertAlmostEqual(tx.collection_fee_amount, fee)
        self.assertAlmostEqual(tx.collection_net_amount, round(gross - fee, 2))
        return payment


@tagged("post_install", "-at_install")
class TestOnlinePaymentSettings(CollectionCommon):
    def test_default_fee_account(self):
        """Every provider gets its company's commission account: an expense
        account created by the add-on when the chart has no 627."""
        provider = self.demo_provider
        account = provider.collection_fee_account_id
        self.assertTrue(account)
        self.assertEqual(account.account_type, "expense")
        self.assertIn(self.company, account.company_ids)
        self.assertTrue(account.code.startswith("627"))
        self.assertEqual(
            self.company._collection_get_default_fee_account(),
            account,
            "the same account for every provider of the company",
        )

    def test_default_fee_account_french_chart(self):
        """The French chart's 627800 (Services bancaires et assimilés) is the
        default where the chart has it."""
        account = self.env["account.account"].create(
            {
                "name": "Autres frais et commissions sur prestations de services",
                "code": "627899",
                "account_type": "expense",
                "company_ids": [Command.set(self.company.ids)],
            }
        )
        self.env["ir.model.data"].create(
            {
                "module": "account",
                "name": f"{self.company.id}_pcg_6278",
                "model": "account.account",
                "res_id": account.id,
            }
        )
        self.assertEqual(self.company._collection_get_default_fee_account(), account)

    def test_fee_account_of_another_company_refused(self):
        other = self.setup_other_company(name="Collection Fees Lille")["company"]
        foreign = other._collection_get_default_fee_account()
        self.assertTrue(foreign)
        before = self.demo_provider.collection_fee_account_id
        with self.assertRefused(ValidationError, "another company"):
            self.demo_provider.collection_fee_account_id = foreign
        self.assertEqual(self.demo_provider.collection_fee_account_id, before)

    def test_allow_online_payment_helpers(self):
        """Customers whose method allows online payment may pay online (the Pay
        button's helper); an offline cheque customer may not."""
        self._set_offline(self.customer, self.transfer_line)
        self._set_offline(self.other_customer, self.cheque_line)
        self.transfer_line.collection_allow_online_payment = True
        invoice = self._make_invoice(self.customer)
        cheque_invoice = self._make_invoice(self.other_customer)
        self.assertTrue(self.customer.collection_online_payment_allowed)
        self.assertTrue(self.contact.collection_online_payment_allowed)
        self.assertFalse(self.other_customer.collection_online_payment_allowed)
        self.assertTrue(invoice._collection_is_online_payment_allowed())
        self.assertFalse(cheque_invoice._collection_is_online_payment_allowed())
        self.transfer_line.collection_allow_online_payment = False
        self.assertFalse(invoice._collection_is_online_payment_allowed())

    def test_setting_default_and_screen(self):
        self.assertEqual(self.company.collection_online_integration, "auto")
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.collection_online_integration, "auto")
        settings.collection_online_integration = "manual"
        settings.execute()
        self.assertEqual(self.company.collection_online_integration, "manual")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_collection.payment_transaction_action_collection"
        )
        self.assertEqual(action["res_model"], "payment.transaction")
        self.assertIn("search_default_to_integrate", action["context"])


@tagged("post_install", "-at_install")
class TestOnlineIntegration(OnlineFeesMixin, CollectionCommon):
    """Integration of online payments, with Odoo's demo provider (no fee)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._use_outstanding_receipts(cls.demo_provider)

    def _online_tx(self, invoice, amount=None, state="done"):
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": self.demo_provider.id,
                "payment_method_id": self.card_method.id,
                "reference": self.env["payment.transaction"]._compute_reference(
                    "demo", prefix=invoice.name
                ),
                "amount": amount or invoice.amount_residual,
                "currency_id": invoice.currency_id.id,
                "partner_id": invoice.partner_id.id,
                "operation": "online_redirect",
                "invoice_ids": [Command.set(invoice.ids)],
            }
        )
        if state == "done":
            tx._set_done()
        elif state == "pending":
            tx._set_pending()
        return tx

    def test_automatic_integration(self):
        """By default, the payment is booked when the provider confirms it, and
        the invoice list marks the invoice paid online."""
        invoice = self._make_invoice(self.customer, 150.0)
        tx = self._online_tx(invoice)
        tx._post_process()
        self._assert_booked(tx, 150.0, 0.0)
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        self.assertTrue(invoice.collection_paid_online)
        self.assertFalse(tx.collection_fee_state, "the demo provider has no fee")

    def test_manual_integration(self):
        """After review: the confirmed payment waits in the screen, unbooked,
        then the accountant integrates it, once."""
        self._set_integration("manual")
        invoice = self._make_invoice(self.customer, 150.0)
        tx = self._online_tx(invoice)
        tx._post_process()
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(tx.collection_integration_state, "to_integrate")
        self.assertFalse(tx.payment_id)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertFalse(invoice.collection_paid_online)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_collection.payment_transaction_action_collection"
        )
        search_view = self.env.ref(
            "account_payment_collection.payment_transaction_view_search_collection"
        )
        self.assertIn('name="to_integrate"', search_view.arch)
        waiting = self.env["payment.transaction"].search(
            [
                *safe_eval(action["domain"], {"allowed_company_ids": self.company.ids}),
                ("collection_integration_state", "=", "to_integrate"),
            ]
        )
        self.assertEqual(waiting, tx)

        result = tx.action_collection_integrate()
        self.assertEqual(result["params"]["type"], "success")
        self._assert_booked(tx, 150.0, 0.0)
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        self.assertTrue(invoice.collection_paid_online)
        self.assertIn(
            f'data-oe-id="{tx.payment_id.id}"',
            "".join(invoice.message_ids.mapped("body")),
            "the invoice's chatter links the payment, as Odoo does",
        )
        # Again, and Odoo's post-processing again: nothing more is booked.
        result = tx.action_collection_integrate()
        self.assertEqual(result["params"]["type"], "info")
        tx._post_process()
        self._assert_booked(tx, 150.0, 0.0)

    def test_integration_before_post_processing(self):
        """The accountant integrates a payment Odoo has not post-processed yet:
        Odoo's own post-processing books it, once; a context sent by a client
        cannot make the post-processing book it without the accountant."""
        self._set_integration("manual")
        invoice = self._make_invoice(self.customer, 70.0)
        tx = self._online_tx(invoice)
        tx.with_context(collection_integrating=True)._post_process()
        self.assertFalse(tx.payment_id)
        self.assertEqual(tx.collection_integration_state, "to_integrate")
        other_invoice = self._make_invoice(self.customer, 30.0)
        other_tx = self._online_tx(other_invoice)
        self.assertFalse(other_tx.is_post_processed)
        other_tx.action_collection_integrate()
        self.assertTrue(other_tx.is_post_processed)
        self._assert_booked(other_tx, 30.0, 0.0)
        other_tx._post_process()  # the job comes by later: nothing more
        self._assert_booked(other_tx, 30.0, 0.0)
        self.assertEqual(other_invoice.amount_residual, 0.0)

    def test_manual_integration_of_a_selection(self):
        self._set_integration("manual")
        invoices = [self._make_invoice(self.customer, amount) for amount in (40, 60)]
        txs = self.env["payment.transaction"].union(
            *(self._online_tx(invoice) for invoice in invoices)
        )
        txs._post_process()
        txs.action_collection_integrate()
        for tx, invoice in zip(txs, invoices, strict=True):
            self._assert_booked(tx, invoice.amount_total, 0.0)
            self.assertEqual(invoice.amount_residual, 0.0)

    def test_integrating_a_transaction_not_done_is_refused(self):
        self._set_integration("manual")
        invoice = self._make_invoice(self.customer, 80.0)
        done_tx = self._online_tx(invoice, amount=30.0)
        pending_tx = self._online_tx(invoice, amount=50.0, state="pending")
        done_tx._post_process()
        with self.assertRefused(UserError, f"{pending_tx.reference} is Pending"):
            (done_tx | pending_tx).action_collection_integrate()
        # Nothing was booked, not even the done one of the selection.
        self.assertFalse(done_tx.payment_id)
        self.assertEqual(done_tx.collection_integration_state, "to_integrate")
        self.assertEqual(invoice.amount_residual, 80.0)

    def test_non_accountant_cannot_integrate(self):
        self._set_integration("manual")
        invoice = self._make_invoice(self.customer, 80.0)
        tx = self._online_tx(invoice)
        tx._post_process()
        salesman = self._make_user("fees_salesman", "sales_team.group_sale_salesman")
        with self.assertRefused(AccessError, "Only accountants"):
            tx.with_user(salesman).action_collection_integrate()
        self.assertFalse(tx.payment_id)
        accountant = self._make_user("fees_accountant", "account.group_account_invoice")
        tx.with_user(accountant).action_collection_integrate()
        self._assert_booked(tx, 80.0, 0.0)

    def test_fee_known_before_integration_is_in_the_payment(self):
        """A fee known when the payment is integrated is its write-off line: the
        counterpart is the gross, the outstanding line the net."""
        self._set_integration("manual")
        invoice = self._make_invoice(self.customer, 100.0)
        tx = self._online_tx(invoice)
        tx._post_process()
        tx._collection_set_fee(2.15)
        tx.action_collection_integrate()
        payment = self._assert_booked(tx, 100.0, 2.15)
        self.assertEqual(payment.amount, 97.85)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertTrue(tx.collection_fee_in_payment)
        self.assertFalse(tx.collection_fee_move_id)
        # The fee cannot change once known (a replayed notification).
        self.assertFalse(tx._collection_set_fee(9.99))
        self.assertEqual(tx.collection_fee_amount, 2.15)

    def test_refund_reverses_the_gross(self):
        """A refund is booked as Odoo books it: the gross paid back; the
        provider keeps its fee."""
        invoice = self._make_invoice(self.customer, 100.0)
        tx = self._online_tx(invoice)
        tx._post_process()
        refund_tx = tx._create_child_transaction(100.0, is_refund=True)
        refund_tx._set_done()
        refund_tx._post_process()
        self.assertEqual(refund_tx.collection_integration_state, "integrated")
        self.assertEqual(refund_tx.payment_id.payment_type, "outbound")
        self.assertEqual(refund_tx.payment_id.amount, 100.0)
        self.assertFalse(refund_tx.collection_fee_amount)

    def test_refund_waits_for_integration_in_manual_mode(self):
        self._set_integration("manual")
        invoice = self._make_invoice(self.customer, 100.0)
        tx = self._online_tx(invoice)
        tx._post_process()
        tx.action_collection_integrate()
        refund_tx = tx._create_child_transaction(40.0, is_refund=True)
        refund_tx._set_done()
        refund_tx._post_process()
        self.assertEqual(refund_tx.collection_integration_state, "to_integrate")
        self.assertFalse(refund_tx.payment_id)
        refund_tx.action_collection_integrate()
        self.assertEqual(refund_tx.payment_id.amount, 40.0)
        self.assertEqual(refund_tx.payment_id.payment_type, "outbound")

    @freeze_time("2026-12-01")
    def test_automatic_debit_waits_for_integration(self):
        """A debit confirmed while payments are integrated after review: its
        invoice stays in flight (neither debited again nor reminded) until it
        is integrated, then is debited."""
        self._set_integration("manual")
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer, 90.0, due_date="2026-12-01")
        self.assertEqual(invoice.collection_state, "scheduled")
        self.env["account.move"]._cron_collection_send_due()
        tx = invoice.collection_transaction_id
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.collection_integration_state, "to_integrate")
        self.assertEqual(invoice.collection_state, "sent")
        self.assertEqual(invoice.amount_residual, 90.0)
        self.env["account.move"]._cron_collection_send_due()
        self.assertEqual(invoice.collection_attempt, 1, "not debited twice")
        tx.action_collection_integrate()
        self._assert_booked(tx, 90.0, 0.0)
        self.assertEqual(invoice.collection_state, "debited")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertTrue(invoice.collection_paid_online)

    @freeze_time("2026-12-01")
    def test_chargeback_before_integration_books_then_reverses(self):
        self._set_integration("manual")
        self._set_automatic(self.customer)
        invoice = self._make_invoice(self.customer, 90.0, due_date="2026-12-01")
        self.env["account.move"]._cron_collection_send_due()
        tx = invoice.collection_transaction_id
        with mute_logger("odoo.addons.account_payment_collection.models.account_move"):
            tx._collection_reverse("charged back", "chargeback")
        self.assertTrue(tx.collection_reversed)
        self.assertEqual(tx.collection_integration_state, "integrated")
        self.assertEqual(tx.payment_id.state, "rejected")
        self.assertEqual(invoice.amount_residual, 90.0)
        self.assertFalse(invoice.collection_paid_online)


@tagged("post_install", "-at_install")
class TestStripeFees(OnlineFeesMixin, StripeCollectionCommon, HttpCase):
    """Stripe's exact fee, from the charge's balance transaction, read with the
    real SDK from the fake Stripe."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe_provider.journal_id = cls.company_data["default_journal_bank"]
        cls._use_outstanding_receipts(cls.stripe_provider)

    def setUp(self):
        super().setUp()
        # Stripe's European pricing: 1.5 % + 0.25.
        self.stripe_fake.set_fees(1.5, 25)

    def _debit(self, amount, method_code="card"):
        token = self._register(method_code=method_code)
        self._set_automatic(self.customer, token)
        invoice = self._make_invoice(self.customer, amount, due_date="2026-12-01")
        self._debit_due_invoices()
        return invoice, invoice.collection_transaction_id

    @freeze_time(TODAY)
    def test_card_fee_booked_with_the_payment(self):
        invoice, tx = self._debit(120.0)
        [balance_tx] = self.stripe_fake.balance_transactions.values()
        self.assertEqual(balance_tx["fee"], 205)  # 1.5 % of 120.00 + 0.25
        self.assertEqual(tx.collection_fee_state, "known")
        payment = self._assert_booked(tx, 120.0, 2.05)
        self.assertEqual(payment.amount, 117.95)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(invoice.collection_state, "debited")
        self.assertTrue(invoice.collection_paid_online)
        [call] = self.stripe_fake.calls(
            "GET", f"/v1/payment_intents/{tx.provider_reference}"
        )
        self.assertEqual(call.params["expand"], ["latest_charge.balance_transaction"])

    @freeze_time(TODAY)
    def test_card_fee_shown_then_integrated_after_review(self):
        self._set_integration("manual")
        invoice, tx = self._debit(200.0)
        self.assertEqual(tx.collection_integration_state, "to_integrate")
        self.assertEqual(tx.collection_fee_amount, 3.25)  # 3.00 + 0.25
        self.assertEqual(tx.collection_net_amount, 196.75)
        self.assertFalse(tx.payment_id)
        tx.action_collection_integrate()
        self._assert_booked(tx, 200.0, 3.25)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(
            len(self.stripe_fake.calls("GET", r"/v1/payment_intents/.*")),
            1,
            "the fee is read once",
        )

    @freeze_time(TODAY)
    def test_sepa_fee_once_the_charge_succeeded(self):
        invoice, tx = self._debit(100.0, method_code="sepa_direct_debit")
        self.assertEqual(tx.state, "pending")
        self.assertFalse(self.stripe_fake.balance_transactions)
        self.assertFalse(tx.collection_fee_state)
        intent = self.stripe_fake.succeed_payment_intent(tx.provider_reference)
        self._post_event("payment_intent.succeeded", intent)
        tx._post_process()
        self._assert_booked(tx, 100.0, 1.75)
        self.assertEqual(invoice.amount_residual, 0.0)

    @freeze_time(TODAY)
    def test_fee_unreadable_then_booked_when_read(self):
        """Stripe cannot be reached when the debit is booked: the gross is
        booked, the fee stays not known (never estimated), then is booked by
        itself once read, against the payment's outstanding receipt."""
        token = self._register()
        self._set_automatic(self.customer, token)
        invoice = self._make_invoice(self.customer, 120.0, due_date="2026-12-01")
        self.stripe_fake.fail_next(
            count=3, path=r"/v1/payment_intents/pi_.*", method="GET"
        )
        with mute_logger(OUR_FEES, OUR_STRIPE_PROVIDER):
            self._debit_due_invoices()
        tx = invoice.collection_transaction_id
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.collection_fee_state, "pending")
        payment = self._assert_booked(tx, 120.0, 0.0)
        self.assertEqual(invoice.amount_residual, 0.0)
        # Stripe answers again: integrating it again books the fee, once.
        tx.action_collection_integrate()
        self.assertEqual(tx.collection_fee_amount, 2.05)
        fee_move = tx.collection_fee_move_id
        self.assertEqual(
            self._balances(fee_move),
            {
                tx.provider_id.collection_fee_account_id: 2.05,
                payment.outstanding_account_id: -2.05,
            },
        )
        outstanding_line = payment.move_id.line_ids.filtered(
            lambda line: line.account_id == payment.outstanding_account_id
        )
        self.assertEqual(outstanding_line.amount_residual, 117.95)
        tx.action_collection_integrate()
        self.assertEqual(tx.collection_fee_move_id, fee_move)

    @freeze_time(TODAY)
    def test_dispute_reverses_gross_and_keeps_fee(self):
        invoice, tx = self._debit(80.0)
        payment = self._assert_booked(tx, 80.0, 1.45)
        dispute = self.stripe_fake.create_dispute(tx.provider_reference)
        self._post_event("charge.dispute.created", dispute)
        self.assertTrue(tx.collection_reversed)
        self.assertEqual(invoice.amount_residual, 80.0)
        self.assertFalse(invoice.collection_paid_online)
        fee_account = tx.provider_id.collection_fee_account_id
        moves = (
            self.env["account.move"]
            .search(
                [("journal_id", "=", payment.journal_id.id), ("state", "=", "posted")]
            )
            .filtered(lambda m: tx.reference in (m.ref or "") or m == payment.move_id)
        )
        balances = self._balances(moves)
        self.assertEqual(balances.get(fee_account), 1.45, "Stripe keeps its fee")
        self.assertEqual(balances.get(payment.outstanding_account_id), -1.45)
        self.assertNotIn(payment.destination_account_id, balances)
        # The same dispute again: reversed once.
        self._post_event("charge.dispute.created", dispute)
        self.assertEqual(invoice.amount_residual, 80.0)
        self.assertEqual(
            self._balances(
                self.env["account.move"]
                .search([("state", "=", "posted")])
                .filtered(lambda m: tx.reference in (m.ref or ""))
            ).get(fee_account),
            1.45,
        )

    @freeze_time(TODAY)
    def test_balance_in_company_currency_with_stripe_rate(self):
        """A payment in euros on a Stripe account kept in dollars (the
        company's currency): the fee is Stripe's, in dollars, to the cent."""
        self.stripe_fake.set_fees(1.5, 25, balance_currency="usd", exchange_rate=1.1)
        token = self._register()
        self._set_automatic(self.customer, token)
        invoice = self._make_invoice(
            self.customer, 100.0, post=False, due_date="2026-12-01"
        )
        invoice.currency_id = self.currency_euro
        invoice.action_post()
        self._debit_due_invoices()
        tx = invoice.collection_transaction_id
        self.assertEqual(tx.currency_id, self.currency_euro)
        # 110.00 USD: fee 1.65 + 0.25 = 1.90 USD, 1.73 EUR at Stripe's rate.
        self.assertEqual(tx.collection_fee_balance, 1.90)
        self.assertEqual(tx.collection_fee_amount, 1.73)
        self.assertEqual(tx.collection_fee_rate, 1.1)
        fee_line = tx.payment_id.move_id.line_ids.filtered(
            lambda line: line.account_id == tx.provider_id.collection_fee_account_id
        )
        self.assertEqual(fee_line.balance, 1.90)
        self.assertEqual(fee_line.amount_currency, 1.73)
        self.assertEqual(invoice.amount_residual, 0.0)


@tagged("post_install", "-at_install")
class TestPayPalFees(OnlineFeesMixin, FakePayPalMixin, CollectionCommon, HttpCase):
    """PayPal's exact fee, from the capture's seller receivable breakdown that
    Odoo's own capture request gets from the fake PayPal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.paypal_method = cls.env.ref("payment.payment_method_paypal")
        cls.paypal = cls._prepare_provider(
            "paypal",
            company=cls.company,
            update_values={
                "paypal_email_account": "ventes@company.example.com",
                "paypal_client_id": "fake_client_id",
                "paypal_client_secret": "fake_client_secret",
            },
        )
        cls.paypal.payment_method_ids = [Command.link(cls.paypal_method.id)]
        cls.paypal_method.active = True
        cls.paypal.journal_id = cls.company_data["default_journal_bank"]
        cls._use_outstanding_receipts(cls.paypal)

    def _pay_with_paypal(self, invoice):
        """The customer pays ``invoice`` with PayPal: Odoo creates the order
        (its processing values) and, once the buyer approved it, captures it
        (Odoo's route), both with Odoo's own requests to the fake."""
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": self.paypal.id,
                "payment_method_id": self.paypal_method.id,
                "reference": self.env["payment.transaction"]._compute_reference(
                    "paypal", prefix=invoice.name
                ),
                "amount": invoice.amount_residual,
                "currency_id": invoice.currency_id.id,
                "partner_id": invoice.partner_id.id,
                "operation": "online_direct",
                "invoice_ids": [Command.set(invoice.ids)],
            }
        )
        order_id = tx._get_processing_values()["order_id"]
        self.make_jsonrpc_request(
            "/payment/paypal/complete_order",
            {
                "provider_id": self.paypal.id,
                "order_id": order_id,
                "reference": tx.reference,
            },
        )
        self.env.invalidate_all()
        return tx

    def test_capture_fee_booked(self):
        invoice = self._make_invoice(self.customer, 200.0)
        tx = self._pay_with_paypal(invoice)
        self.assertEqual(tx.state, "done")
        # 3.49 % of 200.00 + 0.49
        self.assertEqual(tx.collection_fee_amount, 7.47)
        self.assertEqual(tx.collection_fee_state, "known")
        tx._post_process()
        payment = self._assert_booked(tx, 200.0, 7.47)
        self.assertEqual(payment.amount, 192.53)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertTrue(invoice.collection_paid_online)
        self.assertEqual(
            len(self.paypal_fake.calls("POST", r"/v2/checkout/orders/.*/capture")), 1
        )

    def test_fee_from_the_webhook(self):
        """The answer to Odoo's capture request was lost: PayPal's webhook
        (verified with PayPal by Odoo) brings the order, with its capture's
        breakdown; its replay changes nothing."""
        invoice = self._make_invoice(self.customer, 120.0)
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": self.paypal.id,
                "payment_method_id": self.paypal_method.id,
                "reference": self.env["payment.transaction"]._compute_reference(
                    "paypal", prefix=invoice.name
                ),
                "amount": 120.0,
                "currency_id": invoice.currency_id.id,
                "partner_id": self.customer.id,
                "operation": "online_direct",
                "invoice_ids": [Command.set(invoice.ids)],
            }
        )
        order_id = tx._get_processing_values()["order_id"]
        _status, order = self.paypal_fake._capture(order_id)
        event = {
            "id": "WH-FAKE-1",
            "event_type": "CHECKOUT.ORDER.COMPLETED",
            "resource": {**order, "intent": "CAPTURE"},
        }
        for _replay in range(2):
            response = self.url_open(
                "/payment/paypal/webhook/",
                data=json.dumps(event),
                headers={"Content-Type": "application/json"},
            )
            self.assertEqual(response.status_code, 200)
            self.env.invalidate_all()
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.collection_fee_amount, 4.68)  # 4.19 + 0.49
        self.assertTrue(
            self.paypal_fake.calls("POST", "/v1/notifications/verify-webhook-signature")
        )
        tx._post_process()
        self._assert_booked(tx, 120.0, 4.68)

    def test_capture_without_breakdown_books_no_estimate(self):
        self.paypal_fake.omit_breakdown = True
        invoice = self._make_invoice(self.customer, 50.0)
        tx = self._pay_with_paypal(invoice)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.collection_fee_state, "pending")
        tx._post_process()
        self._assert_booked(tx, 50.0, 0.0)
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_manual_integration_with_paypal_fee(self):
        self._set_integration("manual")
        invoice = self._make_invoice(self.customer, 80.0)
        tx = self._pay_with_paypal(invoice)
        tx._post_process()
        self.assertEqual(tx.collection_integration_state, "to_integrate")
        self.assertEqual(tx.collection_net_amount, 76.72)  # 80 - (2.79 + 0.49)
        tx.action_collection_integrate()
        self._assert_booked(tx, 80.0, 3.28)


@tagged("post_install", "-at_install")
class TestGoCardlessPayoutFees(OnlineFeesMixin, GoCardlessHttpCommon):
    """GoCardless's fees, known from the payout items when the payout is paid."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._use_outstanding_receipts(cls.gocardless)

    def setUp(self):
        super().setUp()
        self.mandate, self.mandate_token = self._create_mandate_token()
        self._set_automatic(self.customer, self.mandate_token)

    def _confirmed_debit(self, amount=250.0):
        invoice = self._make_eur_invoice(amount=amount)
        tx = self._debit_due_invoices()[-1:]
        self.gocardless_fake.set_payment_status(tx.provider_reference, "confirmed")
        self._post_webhook([self._payment_event(tx, "confirmed")])
        tx._post_process()
        self.env.invalidate_all()
        return invoice, tx

    def _payout(self, txs, **kwargs):
        payout = self.gocardless_fake.create_payout(
            txs.mapped("provider_reference"), **kwargs
        )
        event = self.gocardless_fake.event("payouts", "paid", {"payout": payout["id"]})
        body, headers = self.gocardless_fake.webhook([event])
        response = self._post_webhook(body=body, headers=headers)
        self.assertEqual(response.status_code, 200)
        return payout, body, headers

    def test_payout_fee_booked_when_known(self):
        invoice, tx = self._confirmed_debit(250.0)
        self.assertEqual(tx.collection_fee_state, "pending")
        payment = self._assert_booked(tx, 250.0, 0.0)
        self.assertEqual(payment.amount, 250.0)
        _payout, body, headers = self._payout(tx, app_fee=50)
        # 1 % of 250.00 + 0.20, and the app fee of 0.50.
        self.assertEqual(tx.collection_fee_amount, 3.20)
        self.assertEqual(tx.collection_fee_state, "known")
        fee_move = tx.collection_fee_move_id
        self.assertEqual(fee_move.state, "posted")
        fee_account = self.gocardless.collection_fee_account_id
        self.assertEqual(
            self._balances(fee_move),
            {fee_account: 3.20, payment.outstanding_account_id: -3.20},
        )
        # What stays open on the outstanding receipts is the net paid out.
        outstanding_line = payment.move_id.line_ids.filtered(
            lambda line: line.account_id == payment.outstanding_account_id
        )
        self.assertEqual(outstanding_line.amount_residual_currency, 246.80)
        self.assertEqual(invoice.amount_residual, 0.0)
        # GoCardless sends the webhook again: nothing more.
        self._post_webhook(body=body, headers=headers)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("ref", "=", fee_move.ref), ("state", "=", "posted")]
            ),
            1,
        )
        self.assertEqual(len(self.gocardless_fake.calls_to("GET", "/payout_items")), 1)

    def test_payout_before_integration_fee_in_payment(self):
        self.company.collection_online_integration = "manual"
        invoice, tx = self._confirmed_debit(100.0)
        self.assertEqual(tx.collection_integration_state, "to_integrate")
        self._payout(tx)
        self.assertEqual(tx.collection_fee_amount, 1.20)
        self.assertFalse(tx.collection_fee_move_id)
        tx.action_collection_integrate()
        self._assert_booked(tx, 100.0, 1.20)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(invoice.collection_state, "debited")

    def test_payout_of_unknown_payments_is_ignored(self):
        invoice, tx = self._confirmed_debit(100.0)
        payout = self.gocardless_fake.create_payout([])
        event = self.gocardless_fake.event("payouts", "paid", {"payout": payout["id"]})
        response = self._post_webhook([event])
        self.assertEqual(response.status_code, 204)
        self.assertEqual(tx.collection_fee_state, "pending")
