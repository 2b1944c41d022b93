# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo.tests import freeze_time, new_test_user, tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import CollectionCommon

BUTTON_CLASS = "o_account_payment_collection_plan_button"


@tagged("post_install", "-at_install")
@freeze_time("2026-11-20")
class TestPlanMails(CollectionCommon, MockEmail):
    """The payment plan e-mails as the customer receives them: in the layout of
    the invoice e-mails, greeting the customer, with the schedule, one button to
    the plan's page and the company's signature."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._enable_plans(collection_plan_break_days=10)
        cls.company.phone = "+33 4 78 00 00 00"
        cls.accountant = new_test_user(
            cls.env,
            "apc_mail_accountant",
            groups="base.group_user,account.group_account_invoice",
            name="Claude Comptable",
            email="claude@company.example.com",
            signature="<p>Claude Comptable, accounts receivable</p>",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        # Due on 1 and 15 December 2026: not overdue yet on 20 November.
        cls.invoice = cls._make_invoice(cls.customer, 300.0)
        cls.invoice_2 = cls._make_invoice(cls.customer, 100.01, due_date="2026-12-15")

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _sent_mail(self, plan):
        """The one e-mail of the plan sent to the customer (in the last
        `mock_mail_gateway` block), its layout included."""
        mails = self._new_mails.filtered(
            lambda mail: mail.model == "collection.plan"
            and mail.res_id == plan.id
            and self.customer in mail.recipient_ids
        )
        self.assertEqual(len(mails), 1)
        return mails

    def _assert_plan_mail(self, mail, plan, button_label):
        """What every plan e-mail has: the greeting, one button to the plan's
        page (with its access token), the closing and the company's footer of
        the invoice e-mails, and no header (whose button would be a second)."""
        body = mail.body_html
        self.assertIn(f"Dear {self.customer.name},", body)
        plan_url = plan.get_base_url() + plan.get_portal_url()
        self.assertIn(f"access_token={plan.access_token}", plan_url)
        self.assertEqual(body.count(f'href="{plan_url}"'), 1, "one link to the plan")
        self.assertEqual(body.count(BUTTON_CLASS), 1, "one button")
        self.assertIn(f">{button_label}</a>", body)
        self.assertNotIn("/mail/view", body, "no header button")
        self.assertIn("Do not hesitate to contact us if you have any questions.", body)
        # The company signs in the body, and its footer gives its contact.
        self.assertIn(self.company.name, mail.mail_message_id.body)
        self.assertIn(f'<b style="font-size:11px;">{self.company.name}</b>', body)
        self.assertIn(self.company.phone, body)
        self.assertIn(f"mailto:{self.company.email}", body)

    def _refuse(self, plan, reason):
        plan.with_user(self.accountant).with_context(
            refusal_reason=reason
        ).action_refuse()

    def _propose(self, invoices=None, **values):
        with self.mock_mail_gateway():
            plan = self._propose_plan(
                invoices or self.invoice + self.invoice_2, **values
            )
        return plan

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------

    def test_proposal_acknowledgement_shows_the_proposed_schedule(self):
        plan = self._propose()
        mail = self._sent_mail(plan)
        self._assert_plan_mail(mail, plan, "View my proposal")
        body = mail.body_html
        self.assertIn("We have received your payment plan proposal", body)
        self.assertIn(plan.name, body)
        # 400.01 in three installments on the last day of the month.
        for due_date in ("12/31/2026", "01/31/2027", "02/28/2027"):
            self.assertIn(due_date, body)
        # Counted in the message: the e-mail's hidden preview repeats its start.
        message_body = mail.mail_message_id.body
        self.assertEqual(message_body.count("133.33"), 2)
        self.assertEqual(message_body.count("133.35"), 1)
        self.assertIn("400.01", body, "the total")
        # Sent on behalf of the customer's request: no accountant signs.
        self.assertNotIn(self.accountant.name, body)

    def test_approval_shows_the_schedule_and_the_accountant_signs(self):
        plan = self._propose()
        with self.mock_mail_gateway():
            plan.with_user(self.accountant).action_approve()
        mail = self._sent_mail(plan)
        self._assert_plan_mail(mail, plan, "View my payment plan")
        body = mail.body_html
        self.assertIn("is approved", body)
        message_body = mail.mail_message_id.body
        self.assertEqual(message_body.count("133.33"), 2)
        self.assertEqual(message_body.count("133.35"), 1)
        self.assertIn("Please pay each installment by its due date.", body)
        self.assertIn("Claude Comptable, accounts receivable", body)
        self.assertEqual(mail.author_id, self.accountant.partner_id)

    def test_approval_of_a_customer_debited_automatically(self):
        self._set_automatic(self.customer)
        plan = self._propose()
        with self.mock_mail_gateway():
            plan.action_approve()
        body = self._sent_mail(plan).body_html
        self.assertIn("Each installment will be debited automatically", body)
        self.assertNotIn("Please pay each installment", body)

    def test_refusal_before_the_due_dates(self):
        plan = self._propose()
        with self.mock_mail_gateway():
            self._refuse(plan, "Two installments at most.")
        mail = self._sent_mail(plan)
        self._assert_plan_mail(mail, plan, "View my proposal")
        body = mail.body_html
        self.assertIn("we cannot accept your payment plan proposal", body)
        self.assertIn("Two installments at most.", body)
        self.assertIn("The invoices are due on their original due dates.", body)
        self.assertNotIn("overdue", body)
        self.assertNotIn("initially agreed", body)
        # What the customer owes, invoice by invoice.
        for invoice in self.invoice + self.invoice_2:
            self.assertIn(invoice.name, body)
        self.assertIn("12/01/2026", body)
        self.assertIn("300.00", body)
        self.assertIn("400.01", body, "the total due")

    def test_refusal_once_an_invoice_is_overdue(self):
        with freeze_time("2026-12-10"):  # invoice due on 1 December
            plan = self._propose(first_date=date(2026, 12, 20))
            with self.mock_mail_gateway():
                self._refuse(plan, "Two installments at most.")
            mail = self._sent_mail(plan)
        self._assert_plan_mail(mail, plan, "View my proposal")
        body = mail.body_html
        self.assertIn(
            "The invoices are overdue: please pay them now, or contact us.", body
        )
        self.assertNotIn("original due dates", body)
        self.assertNotIn("initially agreed", body)

    def test_cancellation_says_what_is_owed(self):
        plan = self._propose()
        plan.action_approve()
        with freeze_time("2026-12-10"), self.mock_mail_gateway():
            plan.with_user(self.accountant).with_context(
                cancel_reason="You asked to pay in full."
            ).action_cancel()
            mail = self._sent_mail(plan)
        self._assert_plan_mail(mail, plan, "View my payment plan")
        body = mail.body_html
        self.assertIn("has been cancelled", body)
        self.assertIn("You asked to pay in full.", body)
        self.assertIn(
            "What is still owed on the invoices is overdue: please pay it now, or "
            "contact us.",
            body,
        )
        self.assertIn("400.01", body)

    def test_broken_plan_says_what_is_late_and_what_is_due_now(self):
        plan = self._propose(self.invoice)
        plan.action_approve()
        # The installment of 31 December is still unpaid ten days later.
        with freeze_time("2027-01-15"):
            with self.mock_mail_gateway():
                self.assertEqual(self.Plan._cron_check_broken_plans(), plan)
            mail = self._sent_mail(plan)
        self.assertEqual(plan.state, "broken")
        self._assert_plan_mail(mail, plan, "View my payment plan")
        body = mail.body_html
        self.assertIn("so the plan has ended", body)
        # Split in the message: the e-mail's hidden preview repeats its start.
        late, due_now = mail.mail_message_id.body.split("Due now:")
        self.assertIn("12/31/2026", late)
        self.assertIn("100.00", late)
        self.assertNotIn("01/31/2027", body, "the next installment is not late")
        self.assertIn(self.invoice.name, due_now)
        self.assertIn("300.00", due_now)
        # Sent by the scheduled job: no accountant signs.
        self.assertNotIn(self.accountant.name, body)

    def test_mails_speak_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["account_payment_collection"], ["fr_FR"], overwrite=True
        )
        self.customer.lang = "fr_FR"
        plan = self._propose()
        body = self._sent_mail(plan).body_html
        self.assertIn(f"Bonjour {self.customer.name},", body)
        self.assertIn(
            "Nous avons bien reçu votre proposition de plan de paiement", body
        )
        self.assertIn("31/12/2026", body)
        self.assertIn("Date d'échéance", body)
        self.assertIn(">Voir ma proposition</a>", body)
        self.assertIn("N'hésitez pas à nous contacter", body)
        self.assertNotIn("Dear", body)

        with freeze_time("2026-12-10"), self.mock_mail_gateway():
            self._refuse(plan, "Deux échéances au plus.")
            body = self._sent_mail(plan).body_html
        self.assertIn(
            "Les factures sont échues : merci de les régler dès maintenant ou de "
            "nous contacter.",
            body,
        )
        self.assertIn("Montant dû", body)
