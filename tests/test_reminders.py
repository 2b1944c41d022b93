# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import closing
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CollectionCommon

# Invoices of _make_invoice are due on 2026-12-01.
TODAY = "2026-12-31"


class WorkerKilledError(BaseException):
    """Stands for the worker being killed in the middle of the job: not an
    ``Exception``, so that nothing catches it."""


@tagged("post_install", "-at_install")
class TestReminders(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Level = cls.env["collection.reminder.level"]
        cls.Log = cls.env["collection.reminder.log"]
        # Only this test company's customers are reminded, whatever else the
        # database holds (demo data, other companies).
        cls.Level.sudo().search([("company_id", "!=", cls.company.id)]).active = False
        cls.courteous, cls.firm, cls.final = cls.Level.search(
            [("company_id", "=", cls.company.id)], order="days_after_due"
        )
        cls.third_customer = cls.env["res.partner"].create(
            {
                "name": "Garage Leroy",
                "is_company": True,
                "email": "compta@garage-leroy.example.com",
            }
        )
        cls.cron = cls.env.ref(
            "account_payment_collection.ir_cron_collection_send_reminders"
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _run_reminders(self, **kwargs):
        """Run the job as the scheduler does: superuser, no test context."""
        self.env.flush_all()
        cron_env = self.env(user=SUPERUSER_ID, context={})
        sent = cron_env["account.move"]._cron_send_reminders(**kwargs)
        self.env.invalidate_all()
        return sent

    def _overdue(self, partner, days, amount=100.0):
        """A posted invoice overdue by ``days`` days on TODAY."""
        due = {8: "2026-12-23", 10: "2026-12-21", 25: "2026-12-06", 50: "2026-11-11"}
        return self._make_invoice(partner, amount=amount, due_date=due[days])

    def _reminders_of(self, partner):
        """The reminder e-mails posted on the customer."""
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("message_type", "=", "comment"),
            ]
        )

    def _mails_of(self, partner):
        return self.env["mail.mail"].search(
            [("mail_message_id", "in", self._reminders_of(partner).ids)]
        )

    def _block(self, invoice, reason):
        """Block the invoice as the payment plan workflow does."""
        invoice.with_context(
            collection_plan_workflow=True
        ).collection_block_reason = reason

    def _pay(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()

    def _run_cron_job(self):
        """Run the scheduled action through the real scheduler (its commits become
        savepoints of the test transaction)."""
        self.env.flush_all()
        self.registry.enter_test_mode(self.cr)
        try:
            with closing(self.registry.cursor()) as cron_cr:
                self.registry["ir.cron"]._process_job(
                    self.registry.db_name,
                    cron_cr,
                    {
                        **self.cron.read(load=None)[0],
                        "done": 0,
                        "remaining": 0,
                        "timed_out_counter": 0,
                    },
                )
        finally:
            self.registry.leave_test_mode()
            self.env.invalidate_all()

    # ------------------------------------------------------------------
    # Levels
    # ------------------------------------------------------------------

    def test_default_levels_per_company(self):
        self.assertEqual(
            (self.courteous + self.firm + self.final).mapped("days_after_due"),
            [7, 21, 45],
        )
        self.assertEqual(
            (self.courteous + self.firm + self.final).mail_template_id,
            self.env.ref("account_payment_collection.mail_template_reminder_courteous")
            + self.env.ref("account_payment_collection.mail_template_reminder_firm")
            + self.env.ref("account_payment_collection.mail_template_reminder_final"),
        )
        company_2 = self.setup_other_company()["company"]
        levels_2 = self.Level.search(
            [("company_id", "=", company_2.id)], order="days_after_due"
        )
        self.assertEqual(levels_2.mapped("days_after_due"), [7, 21, 45])
        self.assertFalse(levels_2 & (self.courteous + self.firm + self.final))
        # Same days in another company is fine; twice in one company is not.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.courteous.copy({"days_after_due": 21})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.courteous.copy({"days_after_due": 0})

    @freeze_time(TODAY)
    def test_level_selection_by_days(self):
        Move = self.env["account.move"]
        due = {
            "2026-12-28": False,  # 3 days: no level yet
            "2026-12-24": "courteous",  # 7 days: exactly the first level
            "2026-12-11": "courteous",  # 20 days
            "2026-12-10": "firm",  # 21 days
            "2026-11-16": "final",  # 45 days: skips the levels never sent
        }
        invoices = {
            date: self._make_invoice(self.customer, due_date=date) for date in due
        }
        levels = self.courteous + self.firm + self.final
        selected = Move.union(*invoices.values())._collection_get_due_reminder_levels(
            levels
        )
        for date, level in due.items():
            expected = getattr(self, level) if level else None
            self.assertEqual(selected.get(invoices[date]), expected, date)
        # Only levels above the last one sent are due.
        self.Log.sudo().create(
            [
                {
                    "move_id": invoices[date].id,
                    "level_id": level.id,
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                }
                for date, level in (
                    ("2026-12-10", self.firm),
                    ("2026-11-16", self.courteous),
                )
            ]
        )
        self.assertEqual(invoices["2026-12-10"].collection_reminder_level_id, self.firm)
        selected = Move.union(*invoices.values())._collection_get_due_reminder_levels(
            levels
        )
        self.assertNotIn(invoices["2026-12-10"], selected)
        self.assertEqual(selected[invoices["2026-11-16"]], self.final)

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_one_email_per_customer(self):
        recent = self._overdue(self.customer, 10, amount=120.0)
        older = self._overdue(self.customer, 25, amount=250.0)
        not_due = self._make_invoice(self.customer, due_date="2027-01-15")
        other = self._overdue(self.other_customer, 8)
        self.assertEqual(self._run_reminders(), 2)

        messages = self._reminders_of(self.customer)
        self.assertEqual(len(messages), 1, "one e-mail for all the invoices")
        # The most severe level due decides the tone.
        self.assertIn("second reminder", messages.subject)
        mail = self._mails_of(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertEqual(mail.state, "outgoing", "queued, sent after the commit")
        for invoice in recent + older:
            self.assertIn(invoice.name, mail.body_html)
            self.assertIn(invoice.access_token, mail.body_html)
        self.assertNotIn(not_due.name, mail.body_html)
        self.assertIn("370.00", mail.body_html, "total due")

        self.assertEqual(recent.collection_reminder_level_id, self.courteous)
        self.assertEqual(older.collection_reminder_level_id, self.firm)
        self.assertEqual(str(older.collection_reminder_date), TODAY)
        self.assertFalse(not_due.collection_reminder_level_id)
        logs = self.Log.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(
            {(log.move_id, log.level_id) for log in logs},
            {(recent, self.courteous), (older, self.firm)},
        )
        self.assertEqual(logs.mail_message_id, messages)
        self.assertIn("Payment reminder sent", recent.message_ids[0].body)

        other_mail = self._mails_of(self.other_customer)
        self.assertEqual(len(other_mail), 1)
        self.assertIn("friendly reminder", other_mail.subject)
        self.assertIn(other.name, other_mail.body_html)
        self.assertNotIn(recent.name, other_mail.body_html)

    def test_idempotent(self):
        with freeze_time(TODAY):
            invoice = self._overdue(self.customer, 10)
            self.assertEqual(self._run_reminders(), 1)
            self.assertEqual(self._run_reminders(), 0, "nothing new to send")
            self.assertEqual(len(self._reminders_of(self.customer)), 1)
        with freeze_time("2027-01-01"):
            self.assertEqual(self._run_reminders(), 0, "firm level not reached")
        with freeze_time("2027-01-12"):  # 21 days
            self.assertEqual(self._run_reminders(), 1)
            self.assertEqual(self._run_reminders(), 0)
        with freeze_time("2027-03-01"):
            self.assertEqual(self._run_reminders(), 1)
            self.assertEqual(self._run_reminders(), 0)
        with freeze_time("2027-06-01"):
            self.assertEqual(self._run_reminders(), 0, "all levels were sent")
        self.assertEqual(len(self._reminders_of(self.customer)), 3)
        logs = self.Log.search([("move_id", "=", invoice.id)])
        self.assertEqual(logs.level_id, self.courteous + self.firm + self.final)
        self.assertEqual(invoice.collection_reminder_level_id, self.final)
        # The database refuses to record a level twice for an invoice.
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.Log.sudo().create(
                    {
                        "move_id": invoice.id,
                        "level_id": self.firm.id,
                        "partner_id": self.customer.id,
                        "company_id": self.company.id,
                    }
                )

    @freeze_time(TODAY)
    def test_failing_customer_does_not_stop_the_others(self):
        invoices = [
            self._overdue(partner, 10)
            for partner in (self.customer, self.other_customer, self.third_customer)
        ]
        Partner = self.registry["res.partner"]
        original = Partner._collection_send_reminder

        def send(partner, moves, levels_by_move):
            if partner == self.other_customer:
                raise ValueError("SMTP configuration broken for this customer")
            return original(partner, moves, levels_by_move)

        with (
            patch.object(Partner, "_collection_send_reminder", send),
            mute_logger("odoo.addons.account_payment_collection.models"),
        ):
            self.assertEqual(self._run_reminders(), 2)
        self.assertFalse(self._reminders_of(self.other_customer))
        self.assertFalse(invoices[1].collection_reminder_level_id)
        self.assertFalse(self.Log.search([("move_id", "=", invoices[1].id)]))
        # The next run sends the one that failed, and only that one.
        self.assertEqual(self._run_reminders(), 1)
        for partner in (self.customer, self.other_customer, self.third_customer):
            self.assertEqual(len(self._reminders_of(partner)), 1, partner.name)
        self.assertEqual(
            self.Log.search_count([("move_id", "in", [i.id for i in invoices])]), 3
        )

    @freeze_time(TODAY)
    def test_interrupted_job_resumes(self):
        """The worker dies while sending to the second customer: the first one is
        committed, the job resumes with the others and nobody gets two e-mails."""
        partners = self.customer + self.other_customer + self.third_customer
        for partner in partners:
            self._overdue(partner, 10)
            self._overdue(partner, 25)
        Partner = self.registry["res.partner"]
        original = Partner._collection_send_reminder
        calls = []

        def send(partner, moves, levels_by_move):
            calls.append(partner.id)
            if len(calls) == 2:
                raise WorkerKilledError()
            return original(partner, moves, levels_by_move)

        # Not assertRaises: it would roll back what the job committed.
        killed = False
        with patch.object(Partner, "_collection_send_reminder", send):
            try:
                self._run_cron_job()
            except WorkerKilledError:
                killed = True
        self.assertTrue(killed)
        self.assertEqual(calls, partners[:2].ids)
        self.assertEqual(len(self._reminders_of(partners[0])), 1, "committed")
        self.assertFalse(self._reminders_of(partners[1]), "rolled back")
        self.assertFalse(self._reminders_of(partners[2]), "not reached")
        self.assertEqual(self.Log.search_count([("partner_id", "in", partners.ids)]), 2)
        progress = self.env["ir.cron.progress"].search(
            [("cron_id", "=", self.cron.id)], order="id desc", limit=1
        )
        self.assertEqual((progress.done, progress.remaining), (1, 2))

        self._run_cron_job()
        for partner in partners:
            self.assertEqual(len(self._reminders_of(partner)), 1, partner.name)
        self.assertEqual(self.Log.search_count([("partner_id", "in", partners.ids)]), 6)
        self.assertTrue(self.cron.active)
        self._run_cron_job()
        self.assertEqual(self.Log.search_count([("partner_id", "in", partners.ids)]), 6)
        self.assertEqual(len(self._reminders_of(partners[0])), 1)

    @freeze_time(TODAY)
    def test_blocked_excluded_and_paid_invoices_are_not_reminded(self):
        proposed = self._overdue(self.customer, 25)
        self._block(proposed, "plan_proposed")
        disputed = self._overdue(self.customer, 50)
        disputed.collection_block_reason = "dispute"
        paid = self._overdue(self.customer, 10)
        self._pay(paid)
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        excluded = self._overdue(self.other_customer, 10)
        self.other_customer.collection_reminder_excluded = True
        contact = self.env["res.partner"].create(
            {"name": "Jean Dupont", "parent_id": self.other_customer.id}
        )
        self.assertTrue(contact.collection_reminder_excluded, "follows its company")
        excluded_contact = self._overdue(contact, 25)
        draft = self._make_invoice(self.third_customer, post=False, due_date=None)
        draft.invoice_date_due = "2026-11-11"

        self.assertEqual(self._run_reminders(), 0)
        for invoice in proposed + disputed + paid + excluded + excluded_contact + draft:
            self.assertFalse(invoice.collection_reminder_level_id)
        self.assertFalse(self._reminders_of(self.customer))
        self.assertFalse(self._reminders_of(self.other_customer))
        self.assertFalse(
            self.Log.search([("partner_id", "in", (self.customer + contact).ids)])
        )

        # Once the plan is refused, reminders resume, at the level due now.
        self._block(proposed, False)
        self.assertEqual(self._run_reminders(), 1)
        self.assertEqual(proposed.collection_reminder_level_id, self.firm)
        mail = self._mails_of(self.customer)
        self.assertIn(proposed.name, mail.body_html)
        self.assertNotIn(disputed.name, mail.body_html)
        self.assertNotIn(paid.name, mail.body_html)

    @freeze_time(TODAY)
    def test_invoice_contact_and_sms(self):
        self.customer.mobile = "+33 6 12 34 56 78"
        self.final.send_sms = True
        invoice = self._overdue(self.contact, 50, amount=80.0)
        self.assertEqual(self._run_reminders(), 1)
        mail = self._mails_of(self.customer)
        self.assertEqual(mail.recipient_ids, self.contact, "the invoice's contact")
        self.assertIn("final notice", mail.subject)
        self.assertIn(invoice.name, mail.body_html)
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.state, "outgoing", "queued")
        self.assertIn("1 invoice(s) overdue", sms.body)
        self.assertIn(invoice.access_token, sms.body)

    @freeze_time(TODAY)
    def test_customer_without_email_is_not_marked(self):
        self.third_customer.email = False
        invoice = self._overdue(self.third_customer, 10)
        self.assertEqual(self._run_reminders(), 0)
        self.assertFalse(invoice.collection_reminder_level_id)
        self.third_customer.email = "compta@garage-leroy.example.com"
        self.assertEqual(self._run_reminders(), 1)
        self.assertEqual(invoice.collection_reminder_level_id, self.courteous)

    @freeze_time(TODAY)
    def test_levels_per_company(self):
        company_2 = self.setup_other_company()["company"]
        first_2 = self.Level.search(
            [("company_id", "=", company_2.id)], order="days_after_due", limit=1
        )
        first_2.days_after_due = 3
        invoice_2 = (
            self.env["account.move"]
            .with_company(company_2)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": "2026-11-01",
                    "invoice_date_due": "2026-12-26",
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Audit", "quantity": 1, "price_unit": 90.0}
                        )
                    ],
                }
            )
        )
        invoice_2.action_post()
        invoice_1 = self._make_invoice(self.customer, due_date="2026-12-26")
        self.assertEqual(self._run_reminders(), 1)
        self.assertEqual(invoice_2.collection_reminder_level_id, first_2)
        self.assertFalse(invoice_1.collection_reminder_level_id, "7 days here")
        mail = self._mails_of(self.customer)
        # Both invoices are INV/2026/00001 (one sequence per company).
        self.assertIn(f"/my/invoices/{invoice_2.id}?", mail.body_html)
        self.assertNotIn(f"/my/invoices/{invoice_1.id}?", mail.body_html)
        self.assertIn(company_2.name, mail.subject)

    @freeze_time(TODAY)
    def test_queries_do_not_grow_with_invoices(self):
        self._overdue(self.third_customer, 10)
        self._run_reminders()  # warm the caches
        self._overdue(self.customer, 10)
        self._overdue(self.customer, 25)
        self.env.flush_all()
        start = self.cr.sql_log_count
        self._run_reminders()
        few = self.cr.sql_log_count - start
        for days in (8, 10, 10, 25, 25, 50, 50, 50):
            self._overdue(self.other_customer, days)
        self.env.flush_all()
        start = self.cr.sql_log_count
        self._run_reminders()
        many = self.cr.sql_log_count - start
        self.assertEqual(len(self._reminders_of(self.other_customer)), 1)
        self.assertLessEqual(many, few + 4, f"{few} queries for 2, {many} for 8")

    # ------------------------------------------------------------------
    # Send reminder now
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_send_reminder_now(self):
        recent = self._make_invoice(self.customer, due_date="2026-12-29")  # 2 days
        older = self._overdue(self.customer, 25)
        recent.action_collection_send_reminder()
        self.assertEqual(recent.collection_reminder_level_id, self.courteous)
        self.assertEqual(older.collection_reminder_level_id, self.firm)
        messages = self._reminders_of(self.customer)
        self.assertEqual(len(messages), 1)
        self.assertIn(recent.name, messages.body)
        self.assertIn(older.name, messages.body)
        self.assertEqual(messages.author_id, self.env.user.partner_id)
        # Again: the next level of this invoice, even before its days.
        recent.action_collection_send_reminder()
        self.assertEqual(recent.collection_reminder_level_id, self.firm)
        self.assertEqual(older.collection_reminder_level_id, self.firm)
        recent.action_collection_send_reminder()
        self.assertEqual(recent.collection_reminder_level_id, self.final)
        with self.assertRefused(UserError, "last reminder level"):
            recent.action_collection_send_reminder()
        self.assertEqual(len(self._reminders_of(self.customer)), 3)
        # The job then has nothing more to send for these.
        self.assertEqual(self._run_reminders(), 0)

    @freeze_time(TODAY)
    def test_send_reminder_now_as_billing_user(self):
        billing = new_test_user(
            self.env,
            login="billing_reminder",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        invoice = self._overdue(self.customer, 10)
        invoice.with_user(billing).action_collection_send_reminder()
        self.assertEqual(invoice.collection_reminder_level_id, self.courteous)
        self.assertEqual(invoice.collection_reminder_log_ids.level_id, self.courteous)
        self.assertEqual(
            self._reminders_of(self.customer).author_id, billing.partner_id
        )

    @freeze_time(TODAY)
    def test_send_reminder_now_refused(self):
        blocked = self._overdue(self.customer, 25)
        self._block(blocked, "plan_proposed")
        paid = self._overdue(self.customer, 10)
        self._pay(paid)
        not_due = self._make_invoice(self.customer, due_date="2027-01-15")
        draft = self._make_invoice(self.customer, post=False)
        excluded = self._overdue(self.other_customer, 10)
        self.other_customer.collection_reminder_excluded = True
        no_email = self._overdue(self.third_customer, 10)
        self.third_customer.email = False
        cases = [
            (blocked, "blocked \\(Payment plan proposed\\)"),
            (paid, "is paid"),
            (not_due, "not overdue yet"),
            (draft, "only sent for posted customer invoices"),
            (excluded, "excluded from payment reminders"),
            (no_email, "has no e-mail address"),
        ]
        for invoice, message in cases:
            with self.subTest(message=message), self.assertRefused(UserError, message):
                invoice.action_collection_send_reminder()
        self._reread()
        for invoice, _message in cases:
            self.assertFalse(invoice.collection_reminder_level_id)
        partners = self.customer + self.other_customer + self.third_customer
        self.assertFalse(self.Log.search([("partner_id", "in", partners.ids)]))
        for partner in partners:
            self.assertFalse(self._reminders_of(partner))
