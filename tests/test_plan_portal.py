# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

from lxml import html

from odoo import http
from odoo.fields import Command
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CollectionCommon

FORM_ROUTE = "/my/invoices/payment_plan"
PREVIEW_ROUTE = "/my/invoices/payment_plan/preview"


class PlanPortalCommon(CollectionCommon):
    """Portal customers, invoices and helpers of the payment plan portal tests
    (no test here)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", "True"
        )
        cls._enable_plans(
            **{
                "collection_plan_max_installments": 6,
                "collection_plan_reason_required": False,
                "collection_plan_allow_deferred": True,
                "collection_plan_allow_weekly": False,
                "collection_plan_allow_monthly": True,
            }
        )
        company_values = {
            "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
        }
        # Claire works for the customer (Boulangerie Martin); Atelier Dupont is
        # another customer.
        cls.portal_user = new_test_user(
            cls.env,
            "apc_plan_claire",
            groups="base.group_portal",
            partner_id=cls.contact.id,
            **company_values,
        )
        cls.other_portal_user = new_test_user(
            cls.env,
            "apc_plan_dupont",
            groups="base.group_portal",
            partner_id=cls.other_customer.id,
            **company_values,
        )
        cls.invoice = cls._make_invoice(cls.customer, 300.0)
        cls.invoice_2 = cls._make_invoice(cls.customer, 100.01, due_date="2026-12-15")
        cls.other_invoice = cls._make_invoice(cls.other_customer, 200.0)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _login(self, user=None):
        user = user or self.portal_user
        self.authenticate(user.login, user.login)

    def _form_data(self, invoices, **values):
        data = {
            "invoice_ids": ",".join(str(invoice_id) for invoice_id in invoices.ids),
            "plan_kind": "monthly",
            "installment_count": "3",
            "day_of_month": "15",
            "first_date": "2026-12-01",
            "reason": "Our busiest season is over.",
            "csrf_token": http.Request.csrf_token(self),
        }
        data.update(values)
        return data

    def _post(self, data):
        return self.url_open(FORM_ROUTE, data=data, allow_redirects=False)

    def _get(self, url, **kwargs):
        return self.url_open(url, allow_redirects=False, **kwargs)

    def _json(self, route, params):
        """Call a JSON route; return the decoded JSON-RPC answer (result or
        error)."""
        response = self.url_open(
            route,
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def _count_plans(self):
        self.env.invalidate_all()
        return self.Plan.search_count([])

    def _assert_not_blocked(self, *invoices):
        self.env.invalidate_all()
        for invoice in invoices:
            self.assertFalse(invoice.collection_block_reason, invoice.name)
            self.assertFalse(invoice.collection_plan_id, invoice.name)

    def _plan_from_redirect(self, response):
        self.assertEqual(response.status_code, 303, response.text[:2000])
        location = urlsplit(response.headers["Location"])
        self.assertRegex(location.path, r"^/my/payment_plans/\d+$")
        query = parse_qs(location.query)
        self.assertEqual(query.get("message"), ["proposed"])
        plan = self.Plan.browse(int(location.path.rsplit("/", 1)[1]))
        self.env.invalidate_all()
        return plan, response.headers["Location"]

    def _propose(self, invoices, **values):
        """Propose a plan through the portal as Claire; return the plan."""
        self._login()
        plan, _url = self._plan_from_redirect(
            self._post(self._form_data(invoices, **values))
        )
        return plan

    def _run_proposal_tour(self):
        """The customer proposes a monthly plan from an invoice, in Chromium;
        check what the tour stored."""
        plan_count = self._count_plans()
        self.start_tour(
            f"/my/invoices/{self.invoice.id}",
            "account_payment_collection_payment_plan_portal",
            login=self.portal_user.login,
        )
        self.assertEqual(self._count_plans(), plan_count + 1)
        plan = self.Plan.search([("invoice_ids", "in", self.invoice.ids)])
        self.assertEqual(plan.state, "proposed")
        self.assertEqual(plan.partner_id, self.customer)
        self.assertEqual(plan.plan_kind, "monthly")
        self.assertEqual(plan.installment_count, 3)
        self.assertEqual(plan.day_of_month, 15)
        # The first date typed (1 December) followed the day chosen afterwards.
        self.assertEqual(plan.first_date, date(2026, 12, 15))
        self.assertEqual(plan.reason, "Our busiest season is over.")
        self.assertEqual(plan.installment_ids.mapped("amount"), [100.0, 100.0, 100.0])
        self.assertEqual(
            plan.installment_ids.mapped("date"),
            [date(2026, 12, 15), date(2027, 1, 15), date(2027, 2, 15)],
        )
        self.assertEqual(self.invoice.collection_block_reason, "plan_proposed")
        self.assertEqual(self.invoice.collection_plan_id, plan)
        self._assert_not_blocked(self.invoice_2)


@tagged("post_install", "-at_install")
@freeze_time("2026-11-20")
class TestPlanPortal(PlanPortalCommon, HttpCase):
    # ------------------------------------------------------------------
    # Invoice page, invoices list, portal home
    # ------------------------------------------------------------------

    def test_invoice_page_offers_a_plan(self):
        self._login()
        page = self._get(f"/my/invoices/{self.invoice.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_account_payment_collection_request_plan", page.text)
        self.assertIn(f"{FORM_ROUTE}?invoice_ids={self.invoice.id}", page.text)
        self.assertIn('data-bs-target="#pay_with"', page.text, "Pay Now is offered")

        # Not on a paid invoice.
        paid = self._make_invoice(self.customer, 50.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        page = self._get(f"/my/invoices/{paid.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("o_account_payment_collection_request_plan", page.text)

    def test_invoices_list_selects_several_invoices(self):
        paid = self._make_invoice(self.customer, 50.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        self._login()
        page = self._get("/my/invoices")
        self.assertEqual(page.status_code, 200)
        self.assertIn('id="o_account_payment_collection_plan_select"', page.text)
        for invoice in self.invoice + self.invoice_2:
            self.assertIn(
                'name="invoice_ids" form="o_account_payment_collection_plan_select" '
                f'value="{invoice.id}"',
                page.text,
            )
        self.assertNotIn(f'value="{paid.id}"', page.text)
        # The selection form submits the ticked invoices (repeated parameter).
        form = self._get(
            f"{FORM_ROUTE}?invoice_ids={self.invoice.id}&invoice_ids={self.invoice_2.id}"
        )
        self.assertEqual(form.status_code, 200)
        self.assertIn(
            f'name="invoice_ids" value="{self.invoice.id},{self.invoice_2.id}"',
            form.text,
        )
        self.assertIn(self.invoice.name, form.text)
        self.assertIn(self.invoice_2.name, form.text)

    def _invoice_plan_badges(self, page):
        """``{invoice name: (plan state, badge text, link)}`` of the rows of the
        portal's invoices list that are marked as held by a payment plan."""
        badges = {}
        for row in html.fromstring(page.text).xpath("//tbody/tr"):
            links = row.xpath(".//a[@title]")
            badge = row.xpath(
                ".//td[@name='invoice_status']//a[contains(concat(' ', @class, ' '), "
                "' o_account_payment_collection_invoice_plan_badge ')]"
            )
            if links and badge:
                badges[links[0].get("title")] = (
                    badge[0].get("data-state"),
                    " ".join(badge[0].text_content().split()),
                    badge[0].get("href"),
                )
        return badges

    def test_invoices_list_marks_invoices_in_a_plan(self):
        other = self._make_invoice(self.customer, 80.0)
        plan = self._propose(self.invoice + self.invoice_2)
        page = self._get("/my/invoices")
        self.assertEqual(page.status_code, 200)
        proposed = ("proposed", "Payment plan proposed", f"/my/payment_plans/{plan.id}")
        self.assertEqual(
            self._invoice_plan_badges(page),
            {self.invoice.name: proposed, self.invoice_2.name: proposed},
            "not on the invoice outside the plan",
        )
        self.assertIn(other.name, page.text)

        plan.action_approve()
        page = self._get("/my/invoices")
        active = ("active", "Payment plan active", f"/my/payment_plans/{plan.id}")
        self.assertEqual(
            self._invoice_plan_badges(page),
            {self.invoice.name: active, self.invoice_2.name: active},
        )
        # Once the plan is over, no mark.
        plan.with_context(cancel_reason="Paid in full").action_cancel()
        self.assertEqual(self._invoice_plan_badges(self._get("/my/invoices")), {})

    def test_portal_home_counts_plans(self):
        self._login()
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["payment_plan_count"]}
        )
        self.assertEqual(counters["payment_plan_count"], 0)
        plan = self._propose(self.invoice)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["payment_plan_count"]}
        )
        self.assertEqual(counters["payment_plan_count"], 1)
        page = self._get("/my/payment_plans")
        self.assertEqual(page.status_code, 200)
        self.assertIn(plan.name, page.text)
        self.assertIn('data-state="proposed"', page.text)
        home = self._get("/my/home")
        self.assertIn('href="/my/payment_plans" title="Payment Plans"', home.text)

    # ------------------------------------------------------------------
    # The form and its preview
    # ------------------------------------------------------------------

    def test_form_and_preview(self):
        self._login()
        plan_count = self._count_plans()
        ids = f"{self.invoice.id},{self.invoice_2.id}"
        page = self._get(f"{FORM_ROUTE}?invoice_ids={ids}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice.name, page.text)
        self.assertIn(self.invoice_2.name, page.text)
        self.assertIn("400.01", page.text, "the total is computed by the server")
        # Only the kinds the company allows.
        self.assertIn(
            'name="plan_kind" id="o_account_payment_collection_kind_monthly"', page.text
        )
        self.assertIn('value="deferred"', page.text)
        self.assertNotIn('value="weekly"', page.text)
        # The default schedule is already computed: monthly, 3 installments from
        # a week from today.
        self.assertIn('data-date="2026-11-27"', page.text)
        self.assertIn('data-date="2027-01-27"', page.text)

        preview = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": ids,
                "plan_kind": "monthly",
                "installment_count": "3",
                "day_of_month": "31",
                "first_date": "2027-01-05",
            },
        )
        self.assertNotIn("error", preview)
        self.assertEqual(
            [line["date_iso"] for line in preview["installments"]],
            ["2027-01-31", "2027-02-28", "2027-03-31"],
            "day 31 falls on the last day of February",
        )
        amounts = [line["amount"] for line in preview["installments"]]
        self.assertIn("133.33", amounts[0])
        self.assertIn("133.33", amounts[1])
        self.assertIn("133.35", amounts[2], "the remainder is on one installment")
        self.assertIn("400.01", preview["total"])

        deferred = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": ids,
                "plan_kind": "deferred",
                "installment_count": "",
                "day_of_month": "",
                "first_date": "2027-01-05",
            },
        )
        self.assertEqual(
            [line["date_iso"] for line in deferred["installments"]], ["2027-01-05"]
        )

        refused = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": ids,
                "plan_kind": "monthly",
                "installment_count": "0",
                "day_of_month": "15",
                "first_date": "2027-01-05",
            },
        )
        self.assertEqual(
            refused, {"error": "The number of installments must be between 2 and 6."}
        )
        # Whatever the browser sends, a clear message, never a crash.
        odd = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": ids,
                "plan_kind": ["monthly"],
                "installment_count": {"n": 3},
                "day_of_month": True,
                "first_date": ["2026-12-01"],
            },
        )
        self.assertEqual(odd, {"error": "Choose how you would like to pay."})
        odd = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": [self.invoice.id, self.invoice_2.id],
                "plan_kind": "monthly",
                "installment_count": 3,
                "day_of_month": 15,
                "first_date": 20261201,
            },
        )
        self.assertIn("not a valid date", odd["error"])
        # Someone else's invoice: 404, however it is asked.
        with mute_logger("odoo.http"):
            answer = self._json(
                PREVIEW_ROUTE,
                {"invoice_ids": str(self.other_invoice.id), "plan_kind": "monthly"},
            )
        self.assertEqual(answer["error"]["code"], 404)
        self.assertEqual(self._count_plans(), plan_count, "a preview stores nothing")
        self._assert_not_blocked(self.invoice, self.invoice_2)

    def test_preview_says_when_installments_fall(self):
        """A monthly plan starts on the chosen day, whatever first date was
        typed: the preview says so, in the customer's language."""
        self._login()
        ids = f"{self.invoice.id},{self.invoice_2.id}"

        def note(**values):
            preview = self.make_jsonrpc_request(
                PREVIEW_ROUTE,
                {
                    "invoice_ids": ids,
                    "plan_kind": "monthly",
                    "installment_count": "3",
                    **values,
                },
            )
            self.assertNotIn("error", preview)
            return preview["note"], preview["installments"][0]["date_iso"]

        self.assertEqual(
            note(day_of_month="15", first_date="2026-12-01"),
            (
                "First installment on 12/15/2026, then on the 15th of each month.",
                "2026-12-15",
            ),
        )
        for day, ordinal in (("1", "1st"), ("2", "2nd"), ("3", "3rd"), ("22", "22nd")):
            with self.subTest(day=day):
                self.assertIn(
                    f"then on the {ordinal} of each month.",
                    note(day_of_month=day, first_date="2026-12-01")[0],
                )
        # Asked for the 20th from the 25th: the first one falls next month.
        self.assertEqual(
            note(day_of_month="20", first_date="2026-12-25"),
            (
                "First installment on 01/20/2027, then on the 20th of each month.",
                "2027-01-20",
            ),
        )
        self.assertEqual(
            note(day_of_month="31", first_date="2027-02-01")[0],
            "First installment on 02/28/2027, then on the 31st of each month, or "
            "on the last day of shorter months.",
        )
        deferred = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {"invoice_ids": ids, "plan_kind": "deferred", "first_date": "2027-01-05"},
        )
        self.assertEqual(deferred["note"], "You pay everything on 01/05/2027.")
        refused = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": ids,
                "plan_kind": "monthly",
                "installment_count": "3",
                "day_of_month": "40",
                "first_date": "2026-12-01",
            },
        )
        self.assertNotIn("note", refused, "no note on refused choices")
        # Shown under the preview of the form, as the server computed it.
        page = self._get(f"{FORM_ROUTE}?invoice_ids={ids}")
        self.assertIn(
            "First installment on 11/27/2026, then on the 27th of each month.",
            page.text,
        )
        self.assertIn("o_account_payment_collection_preview_note", page.text)

        # In the customer's language.
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["account_payment_collection"], ["fr_FR"], overwrite=True
        )
        self.portal_user.lang = "fr_FR"
        self._login()
        self.assertEqual(
            note(day_of_month="15", first_date="2026-12-01")[0],
            "Première échéance le 15/12/2026, puis le 15 de chaque mois.",
        )
        self.assertEqual(
            note(day_of_month="1", first_date="2026-12-01")[0],
            "Première échéance le 01/12/2026, puis le 1er de chaque mois.",
        )

    # ------------------------------------------------------------------
    # Submission
    # ------------------------------------------------------------------

    def test_valid_proposal_blocks_the_invoices(self):
        overdue = self._make_invoice(self.contact, 150.0, due_date="2026-11-10")
        invoices = self.invoice + self.invoice_2 + overdue
        self._login()
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["overdue_invoice_count"]}
        )
        self.assertEqual(counters["overdue_invoice_count"], 1)
        plan_count = self._count_plans()

        plan, plan_url = self._plan_from_redirect(
            self._post(self._form_data(invoices, installment_count="4"))
        )
        self.assertEqual(self._count_plans(), plan_count + 1)
        self.assertEqual(plan.state, "proposed")
        self.assertEqual(plan.partner_id, self.customer)
        self.assertEqual(plan.invoice_ids, invoices)
        self.assertEqual(plan.plan_kind, "monthly")
        self.assertEqual(plan.day_of_month, 15)
        self.assertEqual(plan.first_date, date(2026, 12, 1))
        self.assertEqual(plan.reason, "Our busiest season is over.")
        # 550.01 in 4: to the cent, the remainder on one installment.
        self.assertEqual(
            plan.installment_ids.mapped("amount"), [137.50, 137.50, 137.50, 137.51]
        )
        self.assertEqual(
            plan.installment_ids.mapped("date"),
            [
                date(2026, 12, 15),
                date(2027, 1, 15),
                date(2027, 2, 15),
                date(2027, 3, 15),
            ],
        )
        self.assertAlmostEqual(
            sum(plan.installment_ids.mapped("amount")), 550.01, places=2
        )
        self.assertEqual(round(sum(plan.installment_ids.mapped("amount")) * 100), 55001)
        for invoice in invoices:
            self.assertEqual(invoice.collection_block_reason, "plan_proposed")
            self.assertEqual(invoice.collection_plan_id, plan)

        # The confirmation and the plan page.
        page = self._get(plan_url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_account_payment_collection_plan_confirmation", page.text)
        self.assertIn('data-state="proposed"', page.text)
        for installment_date in ("2026-12-15", "2027-03-15"):
            self.assertIn(f'data-date="{installment_date}"', page.text)

        # The invoice page: no Pay button any more, the proposal under review.
        page = self._get(f"/my/invoices/{self.invoice.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn('data-bs-target="#pay_with"', page.text)
        self.assertNotIn("o_account_payment_collection_request_plan", page.text)
        self.assertIn("Payment plan proposed — under review", page.text)
        # Out of the overdue invoices.
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["overdue_invoice_count"]}
        )
        self.assertEqual(counters["overdue_invoice_count"], 0)
        # Out of the invoices that may be selected for a plan.
        page = self._get("/my/invoices")
        self.assertNotIn(
            'form="o_account_payment_collection_plan_select" '
            f'value="{self.invoice.id}"',
            page.text,
        )

    def test_refused_values_store_nothing(self):
        self._login()
        cases = [
            ({"plan_kind": "weekly"}, "Choose how you would like to pay."),
            ({"plan_kind": "yearly"}, "Choose how you would like to pay."),
            ({"plan_kind": ""}, "Choose how you would like to pay."),
            ({"installment_count": "0"}, "must be between 2 and 6."),
            ({"installment_count": "1"}, "must be between 2 and 6."),
            ({"installment_count": "7"}, "must be between 2 and 6."),
            ({"installment_count": "-2"}, "must be between 2 and 6."),
            ({"installment_count": "abc"}, "must be a whole number."),
            ({"installment_count": "2.5"}, "must be a whole number."),
            ({"installment_count": ""}, "must be a whole number."),
            ({"day_of_month": "0"}, "The day of the month must be between 1 and 31."),
            ({"day_of_month": "32"}, "The day of the month must be between 1 and 31."),
            ({"day_of_month": "x"}, "The day of the month must be between 1 and 31."),
            ({"first_date": "2026-11-19"}, "The first payment cannot be in the past."),
            (
                {"first_date": "2026-13-01"},
                "The date of the first payment is not a valid date",
            ),
            (
                {"first_date": "2026-02-30"},
                "The date of the first payment is not a valid date",
            ),
            (
                {"first_date": "01/12/2026"},
                "The date of the first payment is not a valid date",
            ),
            (
                {"first_date": "2026-12-01T10:00"},
                "The date of the first payment is not a valid date",
            ),
            ({"first_date": ""}, "Choose the date of the first payment."),
            ({"first_date": "2027-11-01"}, "The plan must end within 365 days"),
            # 100.01 in 6 is 16.66 a month, under the minimum of 20.00.
            ({"installment_count": "6"}, "Each installment must be at least"),
        ]
        plan_count = self._count_plans()
        for values, message in cases:
            with self.subTest(values=values):
                response = self._post(self._form_data(self.invoice_2, **values))
                self.assertEqual(response.status_code, 422)
                self.assertIn(message, response.text)
                self.assertIn("o_account_payment_collection_plan_form", response.text)
                self.assertEqual(self._count_plans(), plan_count)
                self._assert_not_blocked(self.invoice_2)
        # The entered values are shown again.
        response = self._post(
            self._form_data(self.invoice_2, day_of_month="32", reason="Cash is short")
        )
        self.assertIn(
            'name="day_of_month" min="1" max="31" step="1" value="32"', response.text
        )
        self.assertIn("Cash is short</textarea>", response.text)

        # A reason, when the company requires one.
        self.company.collection_plan_reason_required = True
        response = self._post(self._form_data(self.invoice_2, reason="   "))
        self.assertIn("Please tell us why you need a payment plan.", response.text)
        self.assertEqual(self._count_plans(), plan_count)
        self._assert_not_blocked(self.invoice_2)

    def test_refused_invoices_store_nothing(self):
        paid = self._make_invoice(self.customer, 80.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        draft = self._make_invoice(self.customer, 80.0, post=False)
        cancelled = self._make_invoice(self.customer, 80.0)
        cancelled.button_cancel()
        other_currency = (
            self.currency_usd
            if self.company.currency_id == self.currency_euro
            else self.currency_euro
        )
        foreign = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "currency_id": other_currency.id,
                "invoice_date": "2026-11-01",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Service", "price_unit": 90.0, "tax_ids": []}
                    )
                ],
            }
        )
        foreign.action_post()
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": "2026-11-01",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Credit", "price_unit": 10.0, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        in_plan = self._make_invoice(self.customer, 120.0)
        self.Plan._create_proposal(
            self.customer,
            in_plan,
            {
                "plan_kind": "deferred",
                "installment_count": 1,
                "day_of_month": None,
                "first_date": date(2026, 12, 20),
                "reason": "",
            },
        )
        self._login()
        plan_count = self._count_plans()

        messages = [
            (paid, f"Invoice {paid.name} is already paid."),
            (
                self.invoice + foreign,
                "Invoices in different currencies cannot share a plan.",
            ),
            (
                in_plan,
                f"Invoice {in_plan.name} is already in a payment plan or on hold.",
            ),
        ]
        for invoices, message in messages:
            with self.subTest(invoices=invoices.mapped("name")):
                response = self._post(self._form_data(invoices))
                self.assertEqual(response.status_code, 422)
                self.assertIn(message, response.text)
                # The invoices cannot be planned: no form to fill in.
                self.assertNotIn(
                    "o_account_payment_collection_plan_form", response.text
                )
                get = self._get(
                    f"{FORM_ROUTE}?invoice_ids={','.join(map(str, invoices.ids))}"
                )
                self.assertEqual(get.status_code, 200)
                self.assertIn(message, get.text)
                self.assertEqual(self._count_plans(), plan_count)

        not_found = [
            str(self.other_invoice.id),  # another customer's
            f"{self.invoice.id},{self.other_invoice.id}",
            str(draft.id),  # a draft is not shown on the portal
            str(cancelled.id),
            str(refund.id),
            "2147483000",  # unknown
            "99999999999",  # out of range
            "abc",
            f"{self.invoice.id},x",
            f"{self.invoice.id};{self.invoice_2.id}",
            "1,,2",
            "-1",
            "0",
            "",
            " ",
        ]
        for raw_ids in not_found:
            with self.subTest(invoice_ids=raw_ids):
                with mute_logger("odoo.http"):
                    response = self._post(
                        self._form_data(self.invoice, invoice_ids=raw_ids)
                    )
                    get = self._get(f"{FORM_ROUTE}?invoice_ids={raw_ids}")
                self.assertEqual(response.status_code, 404)
                self.assertEqual(get.status_code, 404)
                self.assertNotIn("Unknown invoice", response.text)
                self.assertEqual(self._count_plans(), plan_count)
        self._assert_not_blocked(
            self.invoice, self.invoice_2, self.other_invoice, paid, foreign
        )

    def test_double_submission_gives_one_plan(self):
        self._login()
        plan_count = self._count_plans()
        data = self._form_data(self.invoice + self.invoice_2)
        plan, _url = self._plan_from_redirect(self._post(data))
        second = self._post(data)
        self.assertEqual(second.status_code, 422)
        self.assertIn("is already in a payment plan", second.text)
        self.assertEqual(self._count_plans(), plan_count + 1)
        self.assertEqual(
            self.Plan.search([("invoice_ids", "in", self.invoice.ids)]), plan
        )

    def test_setting_off(self):
        self.company.collection_allow_plan_proposal = False
        self._login()
        page = self._get(f"/my/invoices/{self.invoice.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("o_account_payment_collection_request_plan", page.text)
        page = self._get("/my/invoices")
        self.assertNotIn("o_account_payment_collection_plan_select", page.text)
        form = self._get(f"{FORM_ROUTE}?invoice_ids={self.invoice.id}")
        self.assertIn("Payment plans cannot be proposed online.", form.text)
        self.assertNotIn("o_account_payment_collection_plan_form", form.text)
        plan_count = self._count_plans()
        response = self._post(self._form_data(self.invoice))
        self.assertEqual(response.status_code, 422)
        self.assertIn("Payment plans cannot be proposed online.", response.text)
        self.assertEqual(self._count_plans(), plan_count)
        self._assert_not_blocked(self.invoice)

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------

    def test_anonymous_with_invoice_token(self):
        token = self.invoice._portal_ensure_token()
        token_2 = self.invoice_2._portal_ensure_token()
        self.authenticate(None, None)
        plan_count = self._count_plans()

        # The invoice page opened from the e-mail offers the plan.
        page = self._get(f"/my/invoices/{self.invoice.id}?access_token={token}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(
            f"{FORM_ROUTE}?invoice_ids={self.invoice.id}&amp;access_token={token}",
            page.text,
        )
        form = self._get(
            f"{FORM_ROUTE}?invoice_ids={self.invoice.id}&access_token={token}"
        )
        self.assertEqual(form.status_code, 200)
        self.assertIn(f'name="access_token" value="{token}"', form.text)
        preview = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": str(self.invoice.id),
                "access_token": token,
                "plan_kind": "deferred",
                "first_date": "2026-12-20",
            },
        )
        self.assertEqual(preview["installments"][0]["date_iso"], "2026-12-20")

        # One token opens one invoice, nothing else.
        with mute_logger("odoo.http"):
            for query in (
                f"invoice_ids={self.invoice.id},{self.invoice_2.id}&access_token={token}",
                f"invoice_ids={self.invoice_2.id}&access_token={token}",
                f"invoice_ids={self.invoice.id}&access_token={token_2}",
                f"invoice_ids={self.invoice.id}&access_token=wrong",
                f"invoice_ids={self.other_invoice.id}&access_token={token}",
            ):
                with self.subTest(query=query):
                    self.assertEqual(
                        self._get(f"{FORM_ROUTE}?{query}").status_code, 404
                    )
            answer = self._json(
                PREVIEW_ROUTE,
                {"invoice_ids": str(self.invoice.id), "plan_kind": "deferred"},
            )
            self.assertEqual(answer["error"]["code"], 404)
            response = self._post(
                self._form_data(self.invoice + self.invoice_2, access_token=token)
            )
            self.assertEqual(response.status_code, 404)
        # Without a token, log in first.
        response = self._get(f"{FORM_ROUTE}?invoice_ids={self.invoice.id}")
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        self.assertEqual(self._count_plans(), plan_count)

        plan, plan_url = self._plan_from_redirect(
            self._post(self._form_data(self.invoice, access_token=token))
        )
        self.assertEqual(self._count_plans(), plan_count + 1)
        self.assertEqual(plan.invoice_ids, self.invoice)
        self.assertEqual(plan.partner_id, self.customer)
        self.assertIn(f"access_token={plan.access_token}", plan_url)
        page = self._get(plan_url)
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_account_payment_collection_plan_confirmation", page.text)
        self._assert_not_blocked(self.invoice_2)

    def test_other_customer_gets_404(self):
        plan = self._propose(self.invoice)
        self._login(self.other_portal_user)
        with mute_logger("odoo.http"):
            for url in (
                f"/my/payment_plans/{plan.id}",
                f"/my/payment_plans/{plan.id}?access_token=wrong",
                f"/my/payment_plans/{plan.id}/pay",
                "/my/payment_plans/2147483000",
            ):
                with self.subTest(url=url):
                    self.assertEqual(self._get(url).status_code, 404)
            answer = self._json(
                f"/my/payment_plans/{plan.id}/transaction",
                {"amount": 100.0, "flow": "direct"},
            )
        self.assertEqual(answer["error"]["code"], 404)
        page = self._get("/my/payment_plans")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn(plan.name, page.text)
        # The customer's own link (from the e-mail) still opens it.
        self.authenticate(None, None)
        page = self._get(plan.get_portal_url())
        self.assertEqual(page.status_code, 200)
        self.assertIn(plan.name, page.text)

    def test_invoice_link_opens_that_invoice_only(self):
        """A visitor holding one invoice's link reaches its plan, which lists
        the plan's other invoices without a link or a token to open them."""
        plan = self._propose(self.invoice + self.invoice_2)
        plan.action_approve()
        token = self.invoice._portal_ensure_token()
        token_2 = self.invoice_2._portal_ensure_token()
        plan_url = plan.get_portal_url()
        self.authenticate(None, None)

        page = self._get(f"/my/invoices/{self.invoice.id}?access_token={token}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(f'href="{plan_url}"', page.text)
        for url in (plan_url, plan._get_pay_url()):
            with self.subTest(url=url):
                page = self._get(url)
                self.assertEqual(page.status_code, 200)
                self.assertNotIn(token_2, page.text)
                self.assertNotIn(token, page.text)
                self.assertNotIn(f"/my/invoices/{self.invoice_2.id}", page.text)
                self.assertNotIn(f"/my/invoices/{self.invoice.id}", page.text)
        page = self._get(plan_url)
        # The invoices are listed, not linked.
        self.assertIn(self.invoice_2.name, page.text)
        self.assertIn("100.01", page.text)
        # Invoice A's token does not open invoice B.
        with mute_logger("odoo.http"):
            other = self._get(f"/my/invoices/{self.invoice_2.id}?access_token={token}")
        self.assertEqual(other.status_code, 303)
        self.assertEqual(urlsplit(other.headers["Location"]).path, "/my")
        self.assertNotIn(self.invoice_2.name, other.text)

        # The customer logged in may open them: links without any token.
        self._login()
        page = self._get(f"/my/payment_plans/{plan.id}")
        self.assertEqual(page.status_code, 200)
        for invoice in self.invoice + self.invoice_2:
            self.assertIn(f'href="/my/invoices/{invoice.id}"', page.text)
        self.assertNotIn(token, page.text)
        self.assertNotIn(token_2, page.text)
        # Another customer logged in, with the plan's link: listed, not linked.
        self._login(self.other_portal_user)
        page = self._get(plan_url)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice_2.name, page.text)
        self.assertNotIn(f"/my/invoices/{self.invoice_2.id}", page.text)
        self.assertNotIn(token_2, page.text)

    def test_revoked_plan_links(self):
        plan = self._propose(self.invoice)
        plan.action_approve()
        old_token = plan._portal_ensure_token()
        old_url = plan.get_portal_url()
        old_pay_url = plan._get_pay_url()
        self.authenticate(None, None)
        self.assertEqual(self._get(old_url).status_code, 200)
        self.assertEqual(self._get(old_pay_url).status_code, 200)

        plan.action_collection_revoke_links()
        self.env.invalidate_all()
        self.assertFalse(plan.access_token)
        tx_count = self.env["payment.transaction"].search_count([])
        with mute_logger("odoo.http"):
            self.assertEqual(self._get(old_url).status_code, 404)
            self.assertEqual(self._get(old_pay_url).status_code, 404)
            answer = self._json(
                f"/my/payment_plans/{plan.id}/transaction",
                {"amount": 300.0, "flow": "direct", "access_token": old_token},
            )
        self.assertEqual(answer["error"]["code"], 404)
        self.env.invalidate_all()
        self.assertEqual(self.env["payment.transaction"].search_count([]), tx_count)

        # A new link is made when one is needed, and works.
        new_url = plan.get_portal_url()
        self.assertTrue(plan.access_token)
        self.assertNotEqual(plan.access_token, old_token)
        page = self._get(new_url)
        self.assertEqual(page.status_code, 200)
        self.assertIn(plan.name, page.text)
        self.assertEqual(self._get(plan._get_pay_url()).status_code, 200)
        self.assertEqual(self._get(old_url).status_code, 404)

    # ------------------------------------------------------------------
    # Reviewed plans, paying the next installment
    # ------------------------------------------------------------------

    def test_refused_plan_shows_the_reason(self):
        plan = self._propose(self.invoice)
        plan._refuse("We need the first payment before the end of the year.")
        page = self._get(f"/my/payment_plans/{plan.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn('data-state="refused"', page.text)
        self.assertIn(
            "We need the first payment before the end of the year.", page.text
        )
        self.assertNotIn("o_account_payment_collection_pay_installment", page.text)
        # Unblocked: the invoice may be paid, or planned again.
        page = self._get(f"/my/invoices/{self.invoice.id}")
        self.assertIn('data-bs-target="#pay_with"', page.text)
        self.assertIn("o_account_payment_collection_request_plan", page.text)

    def test_cancelled_plan_shows_the_reason(self):
        plan = self._propose(self.invoice)
        plan.action_approve()
        plan.with_context(cancel_reason="You asked to pay in full.").action_cancel()
        page = self._get(f"/my/payment_plans/{plan.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn('data-state="cancelled"', page.text)
        self.assertIn("You asked to pay in full.", page.text)
        self.assertNotIn("o_account_payment_collection_pay_installment", page.text)
        # Due in full again: Odoo's Pay button is back.
        page = self._get(f"/my/invoices/{self.invoice.id}")
        self.assertIn('data-bs-target="#pay_with"', page.text)

    def test_pay_next_installment(self):
        plan = self._propose(self.invoice + self.invoice_2)
        plan.action_approve()
        self.env.invalidate_all()
        self.assertEqual(self.invoice.collection_block_reason, "plan_active")
        installment = plan.next_installment_id
        self.assertEqual(installment.amount_residual, 133.33)
        plan_token = plan._portal_ensure_token()

        page = self._get(f"/my/invoices/{self.invoice.id}")
        self.assertIn("o_account_payment_collection_pay_installment", page.text)
        self.assertIn("133.33", page.text)
        self.assertNotIn('data-bs-target="#pay_with"', page.text)
        page = self._get(f"/my/payment_plans/{plan.id}")
        self.assertIn(f"/my/payment_plans/{plan.id}/pay?access_token=", page.text)

        pay = self._get(f"/my/payment_plans/{plan.id}/pay?access_token={plan_token}")
        self.assertEqual(pay.status_code, 200)
        self.assertIn('data-amount="133.33"', pay.text)
        self.assertIn(
            f'data-transaction-route="/my/payment_plans/{plan.id}/transaction"',
            pay.text,
        )

        demo_method = self.env.ref("payment_demo.payment_method_demo")
        params = {
            "provider_id": self.demo_provider.id,
            "payment_method_id": demo_method.id,
            "token_id": None,
            "amount": 1.0,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": plan.get_portal_url(),
            "is_validation": False,
            "access_token": plan_token,
            "payment_reference": plan.name,
        }
        with mute_logger("odoo.http"):
            answer = self._json(f"/my/payment_plans/{plan.id}/transaction", params)
        self.assertIn(
            "The amount to pay has changed", answer["error"]["data"]["message"]
        )
        self.assertFalse(
            self.env["payment.transaction"].search(
                [("invoice_ids", "in", self.invoice.ids)]
            )
        )

        params["amount"] = 133.33
        self.make_jsonrpc_request(f"/my/payment_plans/{plan.id}/transaction", params)
        tx = self.env["payment.transaction"].search(
            [("invoice_ids", "in", self.invoice.ids)]
        )
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.amount, 133.33)
        self.assertEqual(tx.invoice_ids, self.invoice + self.invoice_2)
        self.assertTrue(tx.reference.startswith(plan.name))

        tx._set_done()
        tx._post_process()
        self.env.invalidate_all()
        self.assertTrue(tx.payment_id)
        self.assertEqual(tx.payment_id.amount, 133.33)
        # Reconciled with the oldest invoice first.
        self.assertEqual(self.invoice.amount_residual, 166.67)
        self.assertEqual(self.invoice_2.amount_residual, 100.01)
        self.assertEqual(installment.state, "paid")
        self.assertEqual(plan.next_installment_id, plan.installment_ids[1])
        self.assertEqual(plan.state, "active")

    # ------------------------------------------------------------------
    # Tours
    # ------------------------------------------------------------------

    def test_tour_customer_proposes_a_monthly_plan(self):
        self._run_proposal_tour()


@tagged("post_install", "-at_install")
@freeze_time("2026-11-20")
class TestPlanPortalPhone(PlanPortalCommon, HttpCase):
    """The same tour on a phone-sized screen."""

    browser_size = "375x667"
    touch_enabled = True

    def test_tour_customer_proposes_a_monthly_plan_on_a_phone(self):
        self._run_proposal_tour()
