# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from contextlib import closing
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import format_amount, mute_logger

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
        # Off on install: an admin switches them on in the Invoicing settings.
        cls.company.collection_reminders_enabled = True
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
        # Invoices can be paid online: switched on, with a published provider.
        cls.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", "True"
        )
        cls.demo_provider.is_published = True

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
        due = {
            8: "2026-12-23",
            10: "2026-12-21",
            25: "2026-12-06",
            50: "2026-11-11",
            60: "2026-11-01",
        }
        return self._make_invoice(partner, amount=amount, due_date=due[days])

    def _log_sent(self, invoice, level, date):
        """Record ``level`` as sent for ``invoice`` on ``date`` (an earlier run)."""
        return self.Log.sudo().create(
            {
                "move_id": invoice.id,
                "level_id": level.id,
                "partner_id": invoice.commercial_partner_id.id,
                "company_id": invoice.company_id.id,
                "date": date,
            }
        )

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
        invoice._collection_write_plan_state(
            {"collection_block_reason": reason}, "Payment plan workflow"
        )

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
            "2026-12-10": "courteous",  # 21 days: the first level comes first
            "2026-11-16": "courteous",  # 45 days: never skips a level
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

        # After a reminder, the next level above the last one sent waits for its
        # number of days after the due date and for the gap between the two
        # levels since the last reminder (firm: 21 - 7 = 14, final: 45 - 21 = 24).
        cases = [
            # (due date, last level sent, on, next level due)
            ("2026-12-10", self.courteous, "2026-12-17", self.firm),  # 21 d, 14 d
            ("2026-12-10", self.courteous, "2026-12-18", None),  # 13 days since
            ("2026-12-11", self.courteous, "2026-12-01", None),  # 20 days overdue
            ("2026-11-16", self.firm, "2026-12-07", self.final),  # 45 d, 24 d
            ("2026-11-16", self.firm, "2026-12-08", None),  # 23 days since
            ("2026-11-16", self.courteous, "2026-11-23", self.firm),  # not final
            ("2026-11-01", self.final, "2026-12-01", None),  # all levels sent
        ]
        reminded = Move
        for due_date, level, date, _next_level in cases:
            invoice = self._make_invoice(self.customer, due_date=due_date)
            self._log_sent(invoice, level, date)
            self.assertEqual(invoice.collection_reminder_level_id, level)
            self.assertEqual(str(invoice.collection_reminder_date), date)
            reminded |= invoice
        selected = reminded._collection_get_due_reminder_levels(levels)
        for invoice, (due_date, level, date, next_level) in zip(
            reminded, cases, strict=True
        ):
            self.assertEqual(
                selected.get(invoice), next_level, f"{due_date} {level.name} {date}"
            )

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_one_email_per_customer(self):
        recent = self._overdue(self.customer, 10, amount=120.0)
        older = self._overdue(self.customer, 25, amount=250.0)
        # Its first reminder was 14 days ago: the firm level is due.
        first_log = self._log_sent(older, self.courteous, "2026-12-17")
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
        logs = self.Log.search([("partner_id", "=", self.customer.id)]) - first_log
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
        with freeze_time("2027-01-11"):
            # 21 days overdue, but only 11 days since the first reminder.
            self.assertEqual(self._run_reminders(), 0, "firm level not due yet")
        with freeze_time("2027-01-14"):  # 21 - 7 = 14 days since
            self.assertEqual(self._run_reminders(), 1)
            self.assertEqual(self._run_reminders(), 0)
            self.assertEqual(invoice.collection_reminder_level_id, self.firm)
        with freeze_time("2027-02-06"):  # 47 days overdue, 23 days since
            self.assertEqual(self._run_reminders(), 0, "final notice not due yet")
        with freeze_time("2027-02-07"):  # 45 - 21 = 24 days since
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

    def test_old_invoice_starts_with_first_level(self):
        """An invoice 60 days overdue gets the first level first, then each next
        level after the gap between the levels (21 - 7, then 45 - 21 days)."""
        with freeze_time(TODAY):
            invoice = self._overdue(self.customer, 60)
            self.assertEqual(self._run_reminders(), 1)
            self.assertEqual(invoice.collection_reminder_level_id, self.courteous)
            self.assertIn("friendly reminder", self._mails_of(self.customer).subject)
        with freeze_time("2027-01-13"):  # 13 days later
            self.assertEqual(self._run_reminders(), 0)
        with freeze_time("2027-01-14"):  # 14 days later
            self.assertEqual(self._run_reminders(), 1)
            self.assertEqual(invoice.collection_reminder_level_id, self.firm)
        with freeze_time("2027-02-06"):  # 23 days later
            self.assertEqual(self._run_reminders(), 0)
        with freeze_time("2027-02-07"):  # 24 days later
            self.assertEqual(self._run_reminders(), 1)
            self.assertEqual(invoice.collection_reminder_level_id, self.final)
        logs = self.Log.search([("move_id", "=", invoice.id)], order="date")
        self.assertEqual(logs.level_id, self.courteous + self.firm + self.final)
        self.assertEqual(
            [str(date) for date in logs.mapped("date")],
            [TODAY, "2027-01-14", "2027-02-07"],
        )
        subjects = self._reminders_of(self.customer).sorted("id").mapped("subject")
        self.assertEqual(len(subjects), 3)
        for subject, tone in zip(
            subjects,
            ("friendly reminder", "second reminder", "final notice"),
            strict=True,
        ):
            self.assertIn(tone, subject)

    @freeze_time(TODAY)
    def test_reminders_switched_off(self):
        """Off (as on install), nothing is sent, by the job or by hand, until an
        admin switches the reminders on in the Invoicing settings."""
        new_company = self.env["res.company"].create({"name": "Nouvelle Société"})
        self.assertFalse(new_company.collection_reminders_enabled, "off by default")
        self.company.collection_reminders_enabled = False
        invoice = self._overdue(self.customer, 25)
        self.assertEqual(self._run_reminders(), 0)
        with self.assertRefused(
            UserError,
            "Payment reminders are switched off for .*: switch them on in "
            "Invoicing > Configuration > Settings",
        ):
            invoice.action_collection_send_reminder()
        self.assertFalse(invoice.collection_reminder_level_id)
        self.assertFalse(self.Log.search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(self._reminders_of(self.customer))
        self.assertFalse(
            invoice.message_ids.filtered(
                lambda message: "Payment reminder sent" in (message.body or "")
            )
        )

        settings = self.env["res.config.settings"].with_company(self.company).create({})
        self.assertFalse(settings.collection_reminders_enabled)
        settings.collection_reminders_enabled = True
        settings.execute()
        self.assertTrue(self.company.collection_reminders_enabled)
        self.assertEqual(self._run_reminders(), 1)
        self.assertEqual(invoice.collection_reminder_level_id, self.courteous)

    def _installment_invoice(self, partner, amount=1000.0):
        """An invoice of 2026-12-21 with two installments: 30% at once (10 days
        overdue on TODAY) and 70% in 30 days (not due yet)."""
        return self._make_installment_invoice(partner, "2026-12-21", amount)

    @freeze_time(TODAY)
    def test_installments_follow_their_own_due_dates(self):
        invoice = self._installment_invoice(self.customer)
        # In 18.0 the invoice's due date is its last installment's.
        self.assertEqual(str(invoice.invoice_date_due), "2027-01-20")
        self.assertEqual(
            [
                (str(data["date_maturity"]), data["amount_residual_currency_unsigned"])
                for data in invoice._get_installments_data()
            ],
            [("2026-12-21", 300.0), ("2027-01-20", 700.0)],
        )
        self.assertEqual(self._run_reminders(), 1)
        self.assertEqual(invoice.collection_reminder_level_id, self.courteous)
        mail = self._mails_of(self.customer)
        self.assertIn("friendly reminder", mail.subject)
        self.assertIn(invoice.name, mail.body_html)
        # Listed with the amount due (the e-mail escapes the non-breaking space).
        amount_due = format_amount(
            self.env, invoice.amount_residual, invoice.currency_id
        ).replace("\N{NO-BREAK SPACE}", "&nbsp;")
        self.assertEqual(amount_due, "$&nbsp;1,000.00")
        self.assertIn(amount_due, mail.body_html)

    @freeze_time(TODAY)
    def test_installment_paid_rest_not_due(self):
        """The overdue installment is paid, the next one is not due yet: nothing
        to remind."""
        invoice = self._installment_invoice(self.customer)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 300.0})._create_payments()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 700.0)
        self.assertEqual(self._run_reminders(), 0)
        with self.assertRefused(UserError, "not overdue yet \\(due on 01/20/2027\\)"):
            invoice.action_collection_send_reminder()
        self.assertFalse(invoice.collection_reminder_level_id)
        self.assertFalse(self._reminders_of(self.customer))

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

        # Once the plan is refused, reminders resume, with the first level.
        self._block(proposed, False)
        self.assertEqual(self._run_reminders(), 1)
        self.assertEqual(proposed.collection_reminder_level_id, self.courteous)
        mail = self._mails_of(self.customer)
        self.assertIn(proposed.name, mail.body_html)
        self.assertNotIn(disputed.name, mail.body_html)
        self.assertNotIn(paid.name, mail.body_html)

    @freeze_time(TODAY)
    def test_invoice_contact_and_sms(self):
        self.customer.mobile = "+33 6 12 34 56 78"
        self.final.send_sms = True
        invoice = self._overdue(self.contact, 50, amount=80.0)
        self._log_sent(invoice, self.courteous, "2026-11-18")
        self._log_sent(invoice, self.firm, "2026-12-07")  # 24 days ago
        self.assertEqual(self._run_reminders(), 1)
        self.assertEqual(invoice.collection_reminder_level_id, self.final)
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
        company_2.collection_reminders_enabled = True
        self._prepare_provider(
            "demo", company=company_2, update_values={"is_published": True}
        )
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
        # The other overdue invoice gets its first reminder too, listed in the same
        # e-mail.
        self.assertEqual(older.collection_reminder_level_id, self.courteous)
        messages = self._reminders_of(self.customer)
        self.assertEqual(len(messages), 1)
        self.assertIn(recent.name, messages.body)
        self.assertIn(older.name, messages.body)
        self.assertEqual(messages.author_id, self.env.user.partner_id)
        # Again: the next level of this invoice, even before its days; the other
        # invoice waits 14 days for its next level.
        recent.action_collection_send_reminder()
        self.assertEqual(recent.collection_reminder_level_id, self.firm)
        self.assertEqual(older.collection_reminder_level_id, self.courteous)
        recent.action_collection_send_reminder()
        self.assertEqual(recent.collection_reminder_level_id, self.final)
        self.assertEqual(older.collection_reminder_level_id, self.courteous)
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
            (not_due, "not overdue yet \\(due on 01/15/2027\\)"),
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

    # ------------------------------------------------------------------
    # The tone never goes down
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_tone_never_goes_down(self):
        """An invoice already had the final notice and is still overdue: the
        courteous level of a new invoice goes out in a final notice listing both,
        each invoice keeping its own level."""
        old = self._overdue(self.customer, 60)
        old_logs = (
            self._log_sent(old, self.courteous, "2026-11-08")
            | self._log_sent(old, self.firm, "2026-11-22")
            | self._log_sent(old, self.final, "2026-12-16")
        )
        new = self._overdue(self.customer, 10)
        self.assertEqual(self._run_reminders(), 1)
        mail = self._mails_of(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertIn("final notice", mail.subject)
        self.assertIn("Despite our reminders", mail.body_html)
        self.assertIn(old.name, mail.body_html)
        self.assertIn(new.name, mail.body_html)
        self.assertEqual(new.collection_reminder_log_ids.level_id, self.courteous)
        self.assertEqual(new.collection_reminder_level_id, self.courteous)
        self.assertEqual(old.collection_reminder_log_ids, old_logs, "no new log")
        self.assertEqual(old.collection_reminder_level_id, self.final)

        # By hand too: a third invoice's first reminder is a final notice.
        third = self._overdue(self.customer, 8)
        third.action_collection_send_reminder()
        self.assertEqual(third.collection_reminder_level_id, self.courteous)
        last = self._reminders_of(self.customer).sorted("id")[-1]
        self.assertIn("final notice", last.subject)
        self.assertEqual(old.collection_reminder_log_ids, old_logs)

    @freeze_time(TODAY)
    def test_tone_follows_listed_invoices_only(self):
        """Once the invoice that had the final notice is paid, the next reminder
        of the others starts again from their own level."""
        old = self._overdue(self.customer, 60)
        self._log_sent(old, self.final, "2026-12-16")
        self._pay(old)
        new = self._overdue(self.customer, 10)
        self.assertEqual(self._run_reminders(), 1)
        mail = self._mails_of(self.customer)
        self.assertIn("friendly reminder", mail.subject)
        self.assertNotIn(old.name, mail.body_html)
        self.assertEqual(new.collection_reminder_level_id, self.courteous)

    # ------------------------------------------------------------------
    # How the customer pays
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_offline_customer_gets_instructions_not_links(self):
        self.company.collection_cheque_payee = "Compta Services SAS"
        self._set_offline(self.customer, self.cheque_line)
        self.customer.mobile = "+33 6 12 34 56 78"
        self.courteous.write(
            {
                "send_sms": True,
                "sms_template_id": self.env.ref(
                    "account_payment_collection.sms_template_reminder"
                ).id,
            }
        )
        first = self._overdue(self.customer, 10)
        second = self._overdue(self.customer, 25)
        self.assertEqual(self._run_reminders(), 1)
        mail = self._mails_of(self.customer)
        body = mail.body_html
        self.assertIn(first.name, body)
        self.assertIn(second.name, body)
        self.assertIn("Pay by cheque", body)
        self.assertIn("Payable to", body)
        self.assertIn("Compta Services SAS", body)
        # One cheque for both: the references of both on the back.
        self.assertIn("Write on the back", body)
        self.assertIn(
            f"{second.payment_reference or second.name}, "
            f"{first.payment_reference or first.name}",
            body,
        )
        self.assertNotIn("Pay online", body)
        self.assertNotIn(first.access_token, body)
        self.assertNotIn("/my/invoices", body)
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(sms), 1)
        self.assertIn("2 invoice(s) overdue", sms.body)
        self.assertNotIn("Pay online", sms.body)
        self.assertNotIn("/my/invoices", sms.body)

    @freeze_time(TODAY)
    def test_transfer_customer_gets_bank_details(self):
        self._set_offline(self.other_customer, self.transfer_line)
        invoice = self._overdue(self.other_customer, 10)
        self.assertEqual(self._run_reminders(), 1)
        body = self._mails_of(self.other_customer).body_html
        self.assertIn("Pay by bank transfer", body)
        self.assertIn("Reference", body)
        self.assertIn(invoice.payment_reference or invoice.name, body)
        self.assertNotIn("Pay online", body)

    @freeze_time(TODAY)
    def test_online_customers_get_links(self):
        """Automatic customers and customers whose way of paying is not set are
        offered to pay online, as long as the company offers it."""
        self._set_automatic(self.customer)
        automatic = self._overdue(self.customer, 10)
        # Its automatic debit failed: it follows the reminders.
        automatic.collection_state = "failed"
        undefined = self._overdue(self.other_customer, 10)
        self.assertFalse(self.other_customer.collection_mode)
        Move = self.env["account.move"]
        self.assertEqual(
            (automatic + undefined)._collection_get_reminder_payable_moves(),
            automatic + undefined,
        )
        self.assertEqual(self._run_reminders(), 2)
        for partner, invoice in (
            (self.customer, automatic),
            (self.other_customer, undefined),
        ):
            body = self._mails_of(partner).body_html
            self.assertIn("Pay online", body, partner.name)
            self.assertIn(invoice._collection_get_reminder_invoice_url(), body)
            self.assertNotIn("Pay by cheque", body)
            self.assertEqual(
                partner.with_context(
                    collection_reminder_move_ids=invoice.ids
                )._collection_get_reminder_pay_sentence(),
                f"Pay online: {invoice._collection_get_reminder_invoice_url()}",
            )

        # Without a published provider, or with online payment of invoices
        # switched off, nobody is offered to pay online.
        published = (
            self.env["payment.provider"].sudo().search([("is_published", "=", True)])
        )
        published.is_published = False
        self.assertEqual(undefined._collection_get_reminder_payable_moves(), Move)
        self.demo_provider.is_published = True
        self.assertEqual(undefined._collection_get_reminder_payable_moves(), undefined)
        self.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", "False"
        )
        self.assertEqual(undefined._collection_get_reminder_payable_moves(), Move)
        self.assertEqual(
            self.other_customer.with_context(
                collection_reminder_move_ids=undefined.ids
            )._collection_get_reminder_pay_sentence(),
            "",
        )
        later = self._make_invoice(self.third_customer, due_date="2026-12-21")
        self.assertEqual(self._run_reminders(), 1)
        body = self._mails_of(self.third_customer).body_html
        self.assertIn(later.name, body)
        self.assertNotIn("Pay online", body)

    # ------------------------------------------------------------------
    # The e-mail as the customer reads it
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_layout_is_the_invoice_emails_one(self):
        """No "Your Contact" header presenting the customer to themselves: the
        body, then the company's footer, as in Odoo's invoice e-mails."""
        self.company.phone = "+33 4 78 00 00 00"
        self._overdue(self.customer, 10)
        self.assertEqual(self._run_reminders(), 1)
        mail = self._mails_of(self.customer)
        body = mail.body_html
        self.assertNotIn("Your Contact", body)
        # The customer's name only in "Hello ...", not as a header (leaving out
        # the hidden preview of the text that mail clients show in the list).
        visible = re.sub(r'<div style="display: none;.*?</div>', "", body, flags=re.S)
        self.assertEqual(visible.count(self.customer.name), 1)
        self.assertIn(f"Hello {self.customer.name},", body)
        # The company signs: in the body and in the footer, with its contact.
        self.assertIn(f'<b style="font-size:11px;">{self.company.name}</b>', body)
        self.assertIn(f"mailto:{self.company.email}", body)
        self.assertIn(self.company.phone, body)
        self.assertNotIn("View Contact", body)

    @freeze_time(TODAY)
    def test_dates_follow_the_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["account_payment_collection"], ["fr_FR"], overwrite=True
        )
        self.customer.lang = "fr_FR"
        invoice_fr = self._overdue(self.customer, 25)  # due on 2026-12-06
        invoice_en = self._overdue(self.other_customer, 25)
        self.assertEqual(self._run_reminders(), 2)
        body_fr = self._mails_of(self.customer).body_html
        self.assertIn(invoice_fr.name, body_fr)
        self.assertIn("06/12/2026", body_fr)
        self.assertIn("Payer en ligne", body_fr)
        self.assertNotIn("2026-12-06", body_fr)
        self.assertTrue(
            self.customer.with_context(
                lang="fr_FR", collection_reminder_move_ids=invoice_fr.ids
            )
            ._collection_get_reminder_pay_sentence()
            .startswith("Payer en ligne : http")
        )
        body_en = self._mails_of(self.other_customer).body_html
        self.assertIn(invoice_en.name, body_en)
        self.assertIn("12/06/2026", body_en)
        self.assertNotIn("2026-12-06", body_en)
        # The refusals speak the user's language too.
        not_due = self._make_invoice(self.customer, due_date="2027-01-15")
        refusal = not_due.with_context(lang="fr_FR")._collection_get_reminder_refusals()
        self.assertIn("15/01/2027", refusal[not_due])
        self.assertNotIn("2027-01-15", refusal[not_due])

    # ------------------------------------------------------------------
    # Which invoices show "Send Reminder Now"
    # ------------------------------------------------------------------

    @freeze_time(TODAY)
    def test_can_remind_mirrors_the_check(self):
        overdue = self._overdue(self.customer, 10)
        installment = self._installment_invoice(self.customer)
        blocked = self._overdue(self.customer, 25)
        self._block(blocked, "plan_proposed")
        disputed = self._overdue(self.customer, 25)
        disputed.collection_block_reason = "dispute"
        paid = self._overdue(self.customer, 10)
        self._pay(paid)
        not_due = self._make_invoice(self.customer, due_date="2027-01-15")
        draft = self._make_invoice(self.customer, post=False, due_date="2026-12-01")
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": "2026-11-01",
                "invoice_line_ids": [
                    Command.create({"name": "Refund", "quantity": 1, "price_unit": 10})
                ],
            }
        )
        refund.action_post()
        excluded = self._overdue(self.other_customer, 10)
        self.other_customer.collection_reminder_excluded = True
        expected = {
            overdue: True,
            installment: True,  # its first installment is overdue
            blocked: False,
            disputed: False,
            paid: False,
            not_due: False,
            draft: False,
            refund: False,
            excluded: False,
        }
        invoices = self.env["account.move"].union(*expected)
        invoices.invalidate_recordset(["collection_can_remind"])
        for invoice, can_remind in expected.items():
            with self.subTest(invoice=invoice.name, move_type=invoice.move_type):
                self.assertEqual(invoice.collection_can_remind, can_remind)
                refusals = invoice._collection_get_reminder_refusals()
                self.assertEqual(invoice not in refusals, can_remind)
        # Company reminders switched off: no invoice can be reminded.
        self.company.collection_reminders_enabled = False
        invoices.invalidate_recordset(["collection_can_remind"])
        self.assertFalse(any(invoices.mapped("collection_can_remind")))
        with self.assertRefused(UserError, "switched off"):
            overdue.action_collection_send_reminder()
        # The button follows the field.
        arch = self.env["account.move"].get_view(
            self.env.ref("account.view_move_form").id
        )["arch"]
        self.assertRegex(
            arch,
            r'name="action_collection_send_reminder"[^>]*'
            r'invisible="not collection_can_remind"',
        )

    # ------------------------------------------------------------------
    # Preview
    # ------------------------------------------------------------------

    def _preview(self, user=None):
        Preview = self.env["collection.reminder.preview"]
        if user:
            Preview = Preview.with_user(user)
        action = Preview.with_company(self.company).action_open()
        return Preview.browse(action["res_id"])

    @freeze_time(TODAY)
    def test_preview_writes_nothing(self):
        """Before the first run (reminders still off), the admin sees who the
        job would remind, at which level, with the job's own code."""
        self.company.collection_reminders_enabled = False
        recent = self._overdue(self.customer, 10)
        older = self._overdue(self.customer, 25)
        self._log_sent(older, self.courteous, "2026-12-17")  # firm due now
        other = self._overdue(self.other_customer, 8)
        self.third_customer.email = False
        no_email = self._overdue(self.third_customer, 10)
        not_due = self._make_invoice(self.customer, due_date="2027-01-15")
        self.env.flush_all()
        logs_before = self.Log.search_count([])
        mails_before = self.env["mail.mail"].search_count([])
        tokens_before = (recent + older + other + no_email).mapped("access_token")

        preview = self._preview()
        self.assertFalse(preview.reminders_enabled)
        lines = {line.partner_id: line for line in preview.line_ids}
        self.assertEqual(
            set(lines), {self.customer, self.other_customer, self.third_customer}
        )
        self.assertEqual(lines[self.customer].level_id, self.firm)
        self.assertEqual(lines[self.customer].invoice_ids, recent + older)
        self.assertNotIn(not_due, lines[self.customer].invoice_ids)
        self.assertEqual(lines[self.customer].recipient_email, self.customer.email)
        self.assertEqual(lines[self.other_customer].level_id, self.courteous)
        self.assertEqual(lines[self.other_customer].invoice_ids, other)
        self.assertFalse(
            lines[self.third_customer].recipient_email, "would not be reminded"
        )

        self.env.flush_all()
        self.assertEqual(self.Log.search_count([]), logs_before)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        for partner in lines:
            self.assertFalse(self._reminders_of(partner))
        self.assertFalse(recent.collection_reminder_level_id)
        self.assertEqual(older.collection_reminder_level_id, self.courteous)
        self.assertEqual(
            (recent + older + other + no_email).mapped("access_token"),
            tokens_before,
        )
        # The job, once switched on, sends what the preview showed.
        self.company.collection_reminders_enabled = True
        self.assertEqual(self._run_reminders(), 2)
        self.assertIn("second reminder", self._mails_of(self.customer).subject)
        self.assertIn("friendly reminder", self._mails_of(self.other_customer).subject)

    @freeze_time(TODAY)
    def test_preview_sends_a_test_to_myself_only(self):
        admin = new_test_user(
            self.env,
            login="reminder_admin",
            groups="account.group_account_manager",
            email="chef.comptable@company.example.com",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.company.collection_reminders_enabled = False
        invoice = self._overdue(self.customer, 60)
        self._log_sent(invoice, self.final, "2026-12-16")
        new = self._overdue(self.customer, 10)
        self.env.flush_all()
        customer_messages = self.customer.message_ids
        invoice_messages = (invoice + new).message_ids
        mails_before = self.env["mail.mail"].search([])

        preview = self._preview(user=admin)
        line = preview.line_ids.filtered(lambda pl: pl.partner_id == self.customer)
        self.assertEqual(line.level_id, self.final, "the tone of the old invoice")
        action = line.action_send_test()
        self.assertEqual(action["params"]["type"], "success")

        mail = self.env["mail.mail"].search([]) - mails_before
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.email_to, admin.email_formatted)
        self.assertFalse(mail.recipient_ids)
        self.assertFalse(mail.partner_ids)
        self.assertFalse(mail.model)
        self.assertFalse(mail.res_id)
        self.assertIn("[Test]", mail.subject)
        self.assertIn("final notice", mail.subject)
        self.assertIn(invoice.name, mail.body_html)
        self.assertIn(new.name, mail.body_html)
        self.assertNotIn("Your Contact", mail.body_html)
        self.assertIn(f"mailto:{self.company.email}", mail.body_html)
        self.assertNotIn(self.customer.email, mail.email_to)
        # Nothing recorded: no log, no level, no chatter.
        self.assertEqual(self.Log.search([("move_id", "=", new.id)]), self.Log)
        self.assertFalse(new.collection_reminder_level_id)
        self.assertEqual(self.customer.message_ids, customer_messages)
        self.assertEqual((invoice + new).message_ids, invoice_messages)
        self.assertFalse(self._reminders_of(self.customer))
        # An invoicing user cannot open the preview.
        billing = new_test_user(
            self.env,
            login="billing_preview",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self._preview(user=billing)
