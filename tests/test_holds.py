# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import date
from unittest.mock import patch

from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from odoo.addons.payment.models.payment_transaction import PaymentTransaction

from .common import CollectionCommon


class HoldsCommon(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_plans()
        cls._set_automatic_cls(cls.customer)

    @classmethod
    def _set_automatic_cls(cls, partner):
        partner.write(
            {"collection_mode": "automatic", "collection_token_id": cls.token.id}
        )

    def _run_debits(self):
        self.env.flush_all()
        sent = self.env["account.move"]._cron_collection_send_due()
        self.env.invalidate_all()
        return sent

    def _approved_plan(self, invoices, **values):
        """A plan proposed on 2026-11-20 and approved: three monthly
        installments on the 10th from 2026-12-10."""
        with freeze_time("2026-11-20"):
            plan = self._propose_plan(
                invoices, day_of_month=10, first_date=date(2026, 12, 1), **values
            )
            plan.action_approve()
        return plan

    def _pay(self, invoice, amount):
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"amount": amount, "payment_date": "2026-12-15"})
            ._create_payments()
        )


@tagged("post_install", "-at_install")
class TestDebitsAndHolds(HoldsCommon):
    """The due-date job never debits an invoice on hold in full; it debits an
    active plan's installments, each payment term installment, each in its
    own savepoint, with a deterministic idempotency key."""

    def test_plan_invoice_debited_installment_by_installment(self):
        invoice = self._make_invoice(self.customer, 300.0, due_date="2026-12-01")
        self.assertEqual(invoice.collection_state, "scheduled")
        plan = self._approved_plan(invoice)
        self.assertEqual(plan.installment_ids.mapped("amount"), [100.0] * 3)

        with freeze_time("2026-12-15"):
            self.assertEqual(self._run_debits(), 1)
            self._run_debits()  # a second run sends nothing more
        first = plan.installment_ids[0]
        tx = first.collection_transaction_id
        self.assertEqual(tx.amount, 100.0)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.collection_plan_id, plan)
        self.assertEqual(tx.collection_installment_id, first)
        self.assertEqual(invoice.transaction_ids, tx)
        self.assertEqual(invoice.amount_residual, 200.0)
        self.assertEqual(plan.state, "active")
        self.assertEqual(invoice.collection_block_reason, "plan_active")
        self.assertEqual(first.state, "paid")
        self.assertFalse(plan.installment_ids[1].collection_transaction_id)

        with freeze_time("2027-01-10"):
            self._run_debits()
        self.assertEqual(len(invoice.transaction_ids), 2)
        self.assertEqual(
            plan.installment_ids[1].collection_transaction_id.amount, 100.0
        )
        self.assertEqual(invoice.amount_residual, 100.0)
        with freeze_time("2027-02-10"):
            self._run_debits()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(plan.state, "done")
        self.assertEqual(
            sorted(invoice.transaction_ids.mapped("amount")), [100.0, 100.0, 100.0]
        )

    def test_proposed_plan_and_dispute_are_never_debited(self):
        proposed = self._make_invoice(self.customer, 300.0, due_date="2026-12-01")
        with freeze_time("2026-11-20"):
            self._propose_plan(proposed)
        disputed = self._make_invoice(self.customer, 80.0, due_date="2026-12-01")
        disputed.collection_block_reason = "dispute"
        with freeze_time("2026-12-15"):
            self.assertEqual(self._run_debits(), 0)
        self.assertFalse(proposed.transaction_ids | disputed.transaction_ids)
        self.assertEqual(
            (proposed | disputed).mapped("collection_state"), ["scheduled"] * 2
        )
        # Released from the hold, the invoice is debited on the next run.
        disputed.collection_block_reason = False
        with freeze_time("2026-12-16"):
            self._run_debits()
        self.assertEqual(disputed.payment_state, "paid")
        self.assertFalse(proposed.transaction_ids)

    def test_each_payment_term_installment_on_its_own_date(self):
        invoice = self._make_installment_invoice(self.customer, "2026-12-01")
        self.assertEqual(invoice.invoice_date_due, date(2026, 12, 31))
        with freeze_time("2026-12-15"):
            self._run_debits()
            self._run_debits()
        self.assertEqual(invoice.transaction_ids.mapped("amount"), [300.0])
        self.assertEqual(invoice.amount_residual, 700.0)
        self.assertEqual(invoice.collection_state, "scheduled")
        with freeze_time("2026-12-30"):
            self.assertEqual(self._run_debits(), 0)
        with freeze_time("2026-12-31"):
            self._run_debits()
        self.assertEqual(invoice.payment_state, "paid")
        transactions = invoice.transaction_ids.sorted("id")
        self.assertEqual(transactions.mapped("amount"), [300.0, 700.0])
        self.assertEqual(invoice.collection_attempt, 2)
        self.assertEqual(len(set(transactions.mapped("collection_idempotency_key"))), 2)

    def test_provider_error_keeps_the_other_debits(self):
        invoices = [
            self._make_invoice(self.customer, amount, due_date="2026-12-01")
            for amount in (10.0, 20.0, 30.0)
        ]
        send = PaymentTransaction._send_payment_request

        def flaky_provider(tx):
            if tx.amount == 20.0:
                raise ValidationError("Demo: the provider is not answering")  # pylint: disable=translation-required
            return send(tx)

        with (
            freeze_time("2026-12-15"),
            patch.object(PaymentTransaction, "_send_payment_request", flaky_provider),
            mute_logger(
                "odoo.addons.account_payment_collection.models.payment_transaction"
            ),
        ):
            self._run_debits()
        ok_1, failed, ok_2 = invoices
        self.assertEqual((ok_1 | ok_2).mapped("payment_state"), ["paid", "paid"])
        self.assertEqual(failed.collection_state, "failed")
        # The record of the debit that went wrong stays.
        self.assertEqual(failed.transaction_ids.state, "error")
        self.assertIn("not answering", failed.transaction_ids.state_message)
        # Odoo's error, not the customer's refusal: the accountant is told, the
        # customer is not.
        self.assertTrue(
            any(
                "could not be sent" in body
                for body in failed.message_ids.mapped("body")
            )
        )
        self.assertFalse(
            failed.message_ids.filtered(
                lambda m: "did not go through" in (m.subject or "")
            )
        )
        self.assertEqual(failed.transaction_ids.collection_failure_kind, "not_sent")
        with freeze_time("2026-12-16"):
            self.assertEqual(self._run_debits(), 0)  # failed: never re-sent alone
        self.assertEqual(len(failed.transaction_ids), 1)

    def test_idempotency_key_depends_on_invoice_and_attempt_only(self):
        invoice = self._make_invoice(self.customer, 42.0, due_date="2026-12-01")
        Transaction = self.env["payment.transaction"]
        with freeze_time("2026-12-15"):
            # A run rolled back (a worker killed before its commit) and run
            # again sends the very same reference and key.
            with self.env.cr.savepoint(flush=True) as savepoint:
                self._run_debits()
                first = (
                    invoice.transaction_ids.reference,
                    invoice.transaction_ids.collection_idempotency_key,
                )
                savepoint.rollback()
            self.env.invalidate_all()
            self.assertFalse(invoice.transaction_ids)
            self._run_debits()
        tx = invoice.transaction_ids
        self.assertEqual((tx.reference, tx.collection_idempotency_key), first)
        self.assertEqual(
            tx.collection_idempotency_key,
            Transaction._collection_get_idempotency_key(invoice, 1),
        )
        self.assertNotEqual(
            Transaction._collection_get_idempotency_key(invoice, 2),
            tx.collection_idempotency_key,
        )
        other = self._make_invoice(self.customer, 42.0)
        self.assertNotEqual(
            Transaction._collection_get_idempotency_key(other, 1),
            tx.collection_idempotency_key,
        )

    def test_minimum_installment_converted_to_the_plan_currency(self):
        # 1 unit of this currency is worth 10 of the company's.
        rich = self.setup_other_currency("EUR", rates=[("2016-01-01", 0.1)])
        invoice = self._make_invoice(self.other_customer, 100.0, post=False)
        invoice.currency_id = rich
        invoice.action_post()
        with freeze_time("2026-11-20"):
            plan = self._propose_plan(invoice, installment_count=6)
        # 16.67 of this currency is 166.70 of the company's: above 20.00.
        self.assertEqual(plan.installment_ids.mapped("amount"), [16.66] * 5 + [16.70])
        self.company.collection_plan_min_amount = 200.0
        with freeze_time("2026-11-20"), self.assertRefused(ValidationError, "at least"):
            self._propose_plan(
                self._make_invoice(self.other_customer, 100.0), installment_count=2
            )


@tagged("post_install", "-at_install")
class TestPlanCoherence(HoldsCommon):
    """A plan never asks for money that is no longer due."""

    def test_invoice_of_an_open_plan_keeps_its_state_and_customer(self):
        invoice = self._make_invoice(self.customer, 300.0)
        plan = self._approved_plan(invoice)
        for action in (invoice.button_draft, invoice.button_cancel):
            with (
                self.subTest(action=action.__name__),
                self.assertRefused(UserError, "cancel the plan first"),
            ):
                action()
        with self.assertRefused(UserError, "cancel the plan first"):
            invoice.write({"partner_id": self.other_customer.id})
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.partner_id, self.customer)
        self.assertEqual(invoice.collection_plan_id, plan)
        # Once the plan is cancelled, the invoice can be reset to draft.
        plan.with_context(cancel_reason="Invoice to correct").action_cancel()
        invoice.button_draft()
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(invoice.collection_plan_id)

    def test_credit_note_reduces_the_last_installments(self):
        invoice = self._make_invoice(self.customer, 300.0)
        plan = self._approved_plan(invoice)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": "2026-12-02",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Goodwill",
                            "price_unit": 150.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        refund_line = refund.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        invoice.js_assign_outstanding_line(refund_line.id)
        self.env.invalidate_all()
        self.assertEqual(invoice.amount_residual, 150.0)
        self.assertEqual(plan.amount_credited, 150.0)
        self.assertEqual(plan.amount_paid, 0.0)
        installments = plan.installment_ids
        self.assertEqual(installments.mapped("amount_paid"), [0.0, 0.0, 0.0])
        self.assertEqual(installments.mapped("amount_credited"), [0.0, 50.0, 100.0])
        self.assertEqual(installments.mapped("amount_residual"), [100.0, 50.0, 0.0])
        self.assertEqual(installments[2].state, "credited")
        self.assertEqual(plan.next_installment_id, installments[0])
        self.assertEqual(plan.state, "active")
        # A payment still goes to the first installment.
        self._pay(invoice, 100.0)
        self.env.invalidate_all()
        self.assertEqual(installments.mapped("amount_residual"), [0.0, 50.0, 0.0])
        self.assertEqual(plan.next_installment_amount, 50.0)

    def test_unreconciled_payment_reopens_a_done_plan(self):
        invoice = self._make_invoice(self.customer, 300.0)
        plan = self._approved_plan(invoice)
        self._pay(invoice, 300.0)
        self.env.invalidate_all()
        self.assertEqual(plan.state, "done")
        self.assertFalse(invoice.collection_block_reason)
        partial = invoice.line_ids.matched_credit_ids
        invoice.js_remove_outstanding_partial(partial.id)
        self.env.invalidate_all()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(plan.state, "active")
        self.assertEqual(invoice.collection_block_reason, "plan_active")
        self.assertEqual(plan.installment_ids.mapped("amount_residual"), [100.0] * 3)
        self.assertIn("Reopened", plan.message_ids[0].body)

    def test_cancel_an_active_plan(self):
        invoice = self._make_invoice(self.customer, 300.0)
        plan = self._approved_plan(invoice)
        self.assertEqual(plan.action_cancel()["context"]["default_mode"], "cancel")
        for reason, message in (
            ("  ", "why the plan is cancelled"),
            ("a\x00b", "not allowed"),
        ):
            with self.subTest(reason=reason), self.assertRefused(UserError, message):
                self.env["collection.plan.reason"].with_context(
                    active_ids=plan.ids
                ).create({"mode": "cancel", "reason": reason}).action_confirm()
        self.assertEqual(plan.state, "active")
        self.assertEqual(invoice.collection_block_reason, "plan_active")

        wizard = (
            self.env["collection.plan.reason"]
            .with_context(active_ids=plan.ids)
            .create({"mode": "cancel", "reason": "The customer asked to pay in full."})
        )
        wizard.action_confirm()
        self.assertEqual(plan.state, "cancelled")
        self.assertEqual(plan.cancel_reason, "The customer asked to pay in full.")
        self.assertFalse(invoice.collection_block_reason)
        self.assertFalse(invoice.collection_plan_id)
        mail = plan.message_ids.filtered(lambda m: "is cancelled" in (m.subject or ""))
        self.assertEqual(len(mail), 1)
        self.assertIn("The customer asked to pay in full.", mail.body)
        self.assertIn(self.customer, mail.partner_ids)
        # Collection resumes: the customer pays automatically, so the invoice is
        # debited again (and reminded only if that debit fails).
        Move = self.env["account.move"]
        with freeze_time("2026-12-20"):
            self.assertIn(
                invoice, Move.search(Move._collection_get_debit_domain("2026-12-20"))
            )
            self.assertNotIn(
                invoice, Move.search(Move._collection_get_reminder_domain(self.company))
            )
        with self.assertRefused(UserError, "Only proposed or active plans"):
            plan.with_context(cancel_reason="again").action_cancel()

    def test_refuse_from_the_api_with_a_reason(self):
        invoice = self._make_invoice(self.customer, 300.0)
        with freeze_time("2026-11-20"):
            plan = self._propose_plan(invoice)
        result = plan.with_context(
            refusal_reason="Too long for this amount"
        ).action_refuse()
        self.assertIs(result, True)
        self.assertEqual(plan.state, "refused")
        self.assertEqual(plan.refusal_reason, "Too long for this amount")
        self.assertFalse(invoice.collection_block_reason)


@tagged("post_install", "-at_install")
class TestPlanGuards(HoldsCommon, HttpCase):
    """State and plan reasons change through the workflow only, whatever an
    RPC client sends."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.billing = cls._make_user(
            "apc_guard_billing",
            "base.group_user,account.group_account_invoice",
        )
        cls.portal_other = cls._make_user(
            "apc_guard_dupont",
            "base.group_portal",
            partner_id=cls.other_customer.id,
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", "True"
        )

    def _call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _assert_rpc_refused(self, model, method, args, kwargs=None):
        with self.assertRaises(Exception) as caught, mute_logger("odoo.http"):
            self._call_kw(model, method, args, kwargs)
        return str(caught.exception)

    def test_rpc_cannot_write_the_workflow(self):
        invoice = self._make_invoice(self.customer, 300.0)
        other = self._make_invoice(self.other_customer, 50.0)
        with freeze_time("2026-11-20"):
            plan = self._propose_plan(invoice)
        self.authenticate(self.billing.login, self.billing.login)
        sneaky = {"context": {"collection_plan_workflow": True}}
        for model, method, args, kwargs in (
            ("collection.plan", "write", [plan.ids, {"state": "done"}], None),
            ("collection.plan", "write", [plan.ids, {"state": "active"}], sneaky),
            ("collection.plan", "create", [{"partner_id": self.customer.id}], sneaky),
            (
                "collection.plan.installment",
                "write",
                [plan.installment_ids.ids, {"amount": 1.0}],
                None,
            ),
            (
                "collection.plan.invoice",
                "create",
                [{"plan_id": plan.id, "move_id": other.id}],
                sneaky,
            ),
            (
                "account.move",
                "write",
                [other.ids, {"collection_block_reason": "plan_active"}],
                sneaky,
            ),
            (
                "account.move",
                "write",
                [other.ids, {"collection_plan_id": plan.id}],
                sneaky,
            ),
            (
                "account.move",
                "write",
                [invoice.ids, {"collection_block_reason": False}],
                sneaky,
            ),
        ):
            with self.subTest(model=model, method=method, args=args):
                self._assert_rpc_refused(model, method, args, kwargs)
        self.env.invalidate_all()
        self.assertEqual(plan.state, "proposed")
        self.assertEqual(plan.installment_ids.mapped("amount"), [100.0] * 3)
        self.assertEqual(len(plan.invoice_link_ids), 1)
        self.assertFalse(other.collection_block_reason or other.collection_plan_id)
        self.assertEqual(invoice.collection_block_reason, "plan_proposed")
        # The workflow's own buttons work over RPC.
        self._call_kw("collection.plan", "action_approve", [plan.ids])
        self.env.invalidate_all()
        self.assertEqual(plan.state, "active")
        # A dispute is the accountant's to set.
        self._call_kw(
            "account.move", "write", [other.ids, {"collection_block_reason": "dispute"}]
        )
        self.env.invalidate_all()
        self.assertEqual(other.collection_block_reason, "dispute")

    def test_invoice_transaction_route_refuses_an_invoice_on_hold(self):
        invoice = self._make_invoice(self.other_customer, 300.0)
        with freeze_time("2026-11-20"):
            plan = self._propose_plan(invoice)
        token = invoice._portal_ensure_token()
        for state in ("proposed", "active"):
            if state == "active":
                plan.action_approve()
            with self.subTest(state=state), mute_logger("odoo.http"):
                response = self.url_open(
                    f"/invoice/transaction/{invoice.id}",
                    data=json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "method": "call",
                            "id": 1,
                            "params": {
                                "access_token": token,
                                "amount": 300.0,
                                "provider_id": self.demo_provider.id,
                                "payment_method_id": self.card_method.id,
                                "token_id": None,
                                "flow": "direct",
                                "tokenization_requested": False,
                                "landing_route": invoice.get_portal_url(),
                            },
                        }
                    ),
                    headers={"Content-Type": "application/json"},
                )
            error = response.json().get("error", {})
            self.assertRegex(error["data"]["message"], "payment plan")
            self.env.invalidate_all()
            self.assertFalse(invoice.transaction_ids)

    def test_leaked_invoice_link_does_not_subscribe_the_requester(self):
        invoice = self._make_invoice(self.customer, 300.0)
        token = invoice._portal_ensure_token()
        # Atelier Dupont's user got hold of Boulangerie Martin's invoice link.
        self.authenticate(self.portal_other.login, self.portal_other.login)
        with freeze_time("2026-11-20"):
            response = self.url_open(
                "/my/invoices/payment_plan",
                data={
                    "invoice_ids": str(invoice.id),
                    "access_token": token,
                    "plan_kind": "monthly",
                    "installment_count": "3",
                    "day_of_month": "15",
                    "first_date": "2026-12-01",
                    "reason": "Slow month",
                    "csrf_token": http.Request.csrf_token(self),
                },
                allow_redirects=False,
            )
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.env.invalidate_all()
        plan = invoice.collection_plan_id
        self.assertTrue(plan)
        self.assertEqual(plan.partner_id, self.customer)
        self.assertNotIn(self.other_customer, plan.message_partner_ids)
        self.assertIn(self.customer, plan.message_partner_ids)
        note = plan.message_ids.filtered(lambda m: "proposed by" in (m.body or ""))
        self.assertIn(self.portal_other.partner_id.name, note.body)
        self.assertIn("access link", note.body)
        self.assertEqual(note.author_id, self.other_customer)
        mails = plan.message_ids.filtered(lambda m: m.message_type != "notification")
        self.assertNotIn(self.other_customer, mails.partner_ids)
        self.assertNotIn(self.other_customer, mails.notification_ids.res_partner_id)

    def test_plan_invoice_links_are_per_company(self):
        invoice = self._make_invoice(self.customer, 300.0)
        with freeze_time("2026-11-20"):
            plan = self._propose_plan(invoice)
        company_2 = self.env["res.company"].create({"name": "Other company"})
        outsider = self._make_user(
            "apc_guard_outsider",
            "base.group_user,account.group_account_invoice",
            company=company_2,
        )
        Link = self.env["collection.plan.invoice"].with_user(outsider)
        self.assertFalse(Link.search([("plan_id", "=", plan.id)]))
        with self.assertRaises(AccessError):
            Link.browse(plan.invoice_link_ids.ids).read(["amount"])
        self.assertEqual(
            self.env["collection.plan.invoice"].search([("plan_id", "=", plan.id)]),
            plan.invoice_link_ids,
        )


@tagged("post_install", "-at_install")
class TestSenderWithoutEmail(HoldsCommon):
    """No business action fails because the user has no e-mail address."""

    def test_accountant_without_email(self):
        accountant = self._make_user(
            "apc_no_email",
            "base.group_user,account.group_account_invoice,base.group_partner_manager",
        )
        accountant.partner_id.email = False
        self.company.email = "compta@example.com"
        self._set_offline(self.customer.with_user(accountant))
        self.assertEqual(self.customer.collection_mode, "offline")
        self.assertIn("Automatic collection stopped", self.customer.message_ids[0].body)

        invoice = self._make_invoice(self.customer, 300.0)
        with freeze_time("2026-11-20"):
            plan = self._propose_plan(invoice)
        plan.with_user(accountant).action_approve()
        self.assertEqual(plan.state, "active")
        approval = plan.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("mail.mt_comment")
        )[:1]
        self.assertEqual(approval.author_id, self.company.partner_id)
