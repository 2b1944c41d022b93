# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from urllib.parse import quote, urlsplit

from odoo.tests import HttpCase, freeze_time, tagged
from odoo.tools import mute_logger

from ..controllers.portal import CollectionPortal
from .test_plan_portal import FORM_ROUTE, PREVIEW_ROUTE, PlanPortalCommon

AMOUNT_CHANGED = "The amount to pay has changed: please reload the page."
NUL_REFUSED = "The reason contains a character that is not allowed."
UNKNOWN_PLAN_ID = 2147483000


class _NeverSplit(str):
    """A string that fails the test if it is ever split."""

    def split(self, *args, **kwargs):
        raise AssertionError("the input was split before its length was checked")


@tagged("post_install", "-at_install")
@freeze_time("2026-11-20")
class TestPortalBadInput(PlanPortalCommon, HttpCase):
    """Whatever a visitor sends to the payment plan routes: a clear message or a
    404, never a server error, nothing stored, and nothing that tells an unknown
    document from someone else's."""

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _json_raw(self, route, params):
        """Call a JSON route; return the HTTP response (NaN and infinities are
        sent as the JSON extensions Python's decoder accepts)."""
        return self.url_open(
            route,
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            ),
            headers={"Content-Type": "application/json"},
        )

    def _count_transactions(self):
        self.env.invalidate_all()
        return self.env["payment.transaction"].search_count([])

    def _active_plan(self):
        """Claire's plan for both invoices, approved: its next installment may
        be paid online (133.33). Return the plan and its access token."""
        plan = self._propose(self.invoice + self.invoice_2)
        plan.action_approve()
        self.env.invalidate_all()
        self.assertEqual(plan.state, "active")
        return plan, plan._portal_ensure_token()

    def _transaction_params(self, plan, token, **values):
        return {
            "provider_id": self.demo_provider.id,
            "payment_method_id": self.env.ref("payment_demo.payment_method_demo").id,
            "token_id": None,
            "amount": 133.33,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": plan.get_portal_url(),
            "is_validation": False,
            "access_token": token,
            **values,
        }

    # ------------------------------------------------------------------
    # Dates and reason
    # ------------------------------------------------------------------

    def test_far_and_impossible_dates(self):
        cases = [
            ("9999-12-31", "The plan must end within 365 days"),
            ("0001-01-01", "The first payment cannot be in the past."),
            ("0000-01-01", "The date of the first payment is not a valid date"),
            ("2026-02-30", "The date of the first payment is not a valid date"),
            ("2026-12-01\x00", "The date of the first payment is not a valid date"),
            ("99999-12-31", "The date of the first payment is not a valid date"),
        ]
        self._login()
        plan_count = self._count_plans()
        ids = f"{self.invoice.id},{self.invoice_2.id}"
        for first_date, message in cases:
            for kind in ("monthly", "deferred"):
                with self.subTest(first_date=first_date, kind=kind):
                    response = self._post(
                        self._form_data(
                            self.invoice + self.invoice_2,
                            plan_kind=kind,
                            first_date=first_date,
                        )
                    )
                    self.assertEqual(response.status_code, 422)
                    self.assertIn(message, response.text)
                    self.assertIn(
                        "o_account_payment_collection_plan_form", response.text
                    )
                    preview = self.make_jsonrpc_request(
                        PREVIEW_ROUTE,
                        {
                            "invoice_ids": ids,
                            "plan_kind": kind,
                            "installment_count": "3",
                            "day_of_month": "31",
                            "first_date": first_date,
                        },
                    )
                    self.assertEqual(list(preview), ["error"])
                    self.assertIn(message, preview["error"])
                    self.assertEqual(self._count_plans(), plan_count)
        self._assert_not_blocked(self.invoice, self.invoice_2)

    def test_nul_byte_in_reason(self):
        token = self.invoice._portal_ensure_token()
        plan_count = self._count_plans()
        for access_token in (None, token):
            with self.subTest(anonymous=bool(access_token)):
                if access_token:
                    self.authenticate(None, None)
                    data = self._form_data(
                        self.invoice, access_token=access_token, reason="Cash\x00 short"
                    )
                else:
                    self._login()
                    data = self._form_data(self.invoice, reason="Cash\x00 short")
                response = self._post(data)
                self.assertEqual(response.status_code, 422)
                self.assertIn(NUL_REFUSED, response.text)
                self.assertIn("o_account_payment_collection_plan_form", response.text)
                # What was typed is shown again, without the refused character.
                self.assertIn("Cash short</textarea>", response.text)
                self.assertNotIn("\x00", response.text)
                self.assertEqual(self._count_plans(), plan_count)
                self._assert_not_blocked(self.invoice)
        # The preview says it too.
        preview = self.make_jsonrpc_request(
            PREVIEW_ROUTE,
            {
                "invoice_ids": str(self.invoice.id),
                "access_token": token,
                "plan_kind": "deferred",
                "first_date": "2026-12-20",
                "reason": "\x00",
            },
        )
        self.assertEqual(preview, {"error": NUL_REFUSED})
        self.assertEqual(self._count_plans(), plan_count)

    # ------------------------------------------------------------------
    # Access tokens
    # ------------------------------------------------------------------

    def test_access_token_that_cannot_be_one(self):
        """Non-ASCII, overlong or non-string tokens are wrong tokens: 404 (the
        invoice page of core redirects, as for any wrong token), never a
        server error."""
        plan, plan_token = self._active_plan()
        invoice_token = self.invoice_2._portal_ensure_token()
        self.authenticate(None, None)
        plan_count = self._count_plans()
        tx_count = self._count_transactions()
        plan_url = f"/my/payment_plans/{plan.id}"
        tx_route = f"{plan_url}/transaction"
        bad_tokens = [
            "é",
            "\u00e9" * 36,
            plan_token[:-1] + "é",
            r"\u00e9",
            "a" * 10_000,
        ]
        with mute_logger("odoo.http"):
            for token in bad_tokens:
                with self.subTest(token=token[:40]):
                    query = f"access_token={quote(token)}"
                    form = self._get(
                        f"{FORM_ROUTE}?invoice_ids={self.invoice_2.id}&{query}"
                    )
                    self.assertEqual(form.status_code, 404)
                    post = self._post(
                        self._form_data(self.invoice_2, access_token=token)
                    )
                    self.assertEqual(post.status_code, 404)
                    self.assertEqual(self._get(f"{plan_url}?{query}").status_code, 404)
                    pay = self._get(f"{plan_url}/pay?{query}")
                    self.assertEqual(pay.status_code, 404)
                    # Core's invoice page (through our controller class): the
                    # redirection of a wrong token.
                    invoice_page = self._get(
                        f"/my/invoices/{self.invoice_2.id}?{query}"
                    )
                    self.assertEqual(invoice_page.status_code, 303)
                    self.assertEqual(
                        urlsplit(invoice_page.headers["Location"]).path, "/my"
                    )
            for token in [*bad_tokens, [invoice_token], {"t": invoice_token}, 12]:
                with self.subTest(json_token=str(token)[:40]):
                    answer = self._json(
                        PREVIEW_ROUTE,
                        {
                            "invoice_ids": str(self.invoice_2.id),
                            "access_token": token,
                            "plan_kind": "deferred",
                            "first_date": "2026-12-20",
                        },
                    )
                    self.assertEqual(answer["error"]["code"], 404)
                    answer = self._json(
                        tx_route,
                        self._transaction_params(plan, plan_token, access_token=token),
                    )
                    self.assertEqual(answer["error"]["code"], 404)
        self.assertEqual(self._count_plans(), plan_count)
        self.assertEqual(self._count_transactions(), tx_count)
        # The right tokens still open everything.
        self.assertEqual(
            self._get(f"{plan_url}?access_token={plan_token}").status_code, 200
        )
        self.assertEqual(
            self._get(f"{plan_url}/pay?access_token={plan_token}").status_code, 200
        )
        # Logged in, the invoice page links to the form without a token that is
        # not the invoice's (which the form would refuse).
        invoice = self._make_invoice(self.customer, 50.0)
        invoice._portal_ensure_token()
        self._login()
        for token in ("wrong", "é"):
            with self.subTest(logged_in_token=token):
                page = self._get(
                    f"/my/invoices/{invoice.id}?access_token={quote(token)}"
                )
                self.assertEqual(page.status_code, 200)
                self.assertIn(f'{FORM_ROUTE}?invoice_ids={invoice.id}"', page.text)

    # ------------------------------------------------------------------
    # Paying an installment
    # ------------------------------------------------------------------

    def test_transaction_amount_that_is_not_the_amount(self):
        plan, plan_token = self._active_plan()
        self.authenticate(None, None)
        tx_count = self._count_transactions()
        route = f"/my/payment_plans/{plan.id}/transaction"
        amounts = [
            float("nan"),
            "NaN",
            float("inf"),
            "inf",
            "-inf",
            float("-inf"),
            1e308,
            -1e308,
            "1e308",
            "1e400",
            "133.33abc",
            "",
            [133.33],
            {"amount": 133.33},
            True,
            None,
            10**400,
        ]
        with mute_logger("odoo.http"):
            for amount in amounts:
                with self.subTest(amount=str(amount)[:40]):
                    response = self._json_raw(
                        route, self._transaction_params(plan, plan_token, amount=amount)
                    )
                    self.assertEqual(response.status_code, 200)
                    error = response.json()["error"]
                    self.assertEqual(
                        error["data"]["name"], "odoo.exceptions.ValidationError"
                    )
                    self.assertEqual(error["data"]["message"], AMOUNT_CHANGED)
                    self.assertNotIn("OverflowError", response.text)
                    self.assertEqual(self._count_transactions(), tx_count)
        # The right amount is still accepted.
        self.make_jsonrpc_request(route, self._transaction_params(plan, plan_token))
        self.assertEqual(self._count_transactions(), tx_count + 1)

    def test_unknown_and_foreign_documents_answer_alike(self):
        """A JSON error shows a traceback: an unknown plan and another
        customer's plan must give the very same answer, naming neither
        MissingError nor AccessError."""
        plan, plan_token = self._active_plan()
        tx_count = self._count_transactions()
        for login in (self.other_portal_user, None):
            with self.subTest(login=login and login.login):
                if login:
                    self._login(login)
                else:
                    self.authenticate(None, None)
                with mute_logger("odoo.http"):
                    responses = [
                        self._json_raw(
                            f"/my/payment_plans/{plan_id}/transaction",
                            self._transaction_params(plan, "wrong"),
                        )
                        for plan_id in (plan.id, UNKNOWN_PLAN_ID)
                    ]
                foreign, unknown = (response.json()["error"] for response in responses)
                self.assertEqual(foreign["code"], 404)
                self.assertEqual(foreign, unknown)
                for response in responses:
                    self.assertNotIn("MissingError", response.text)
                    self.assertNotIn("AccessError", response.text)
                for plan_id in (plan.id, UNKNOWN_PLAN_ID):
                    self.assertEqual(
                        self._get(f"/my/payment_plans/{plan_id}").status_code, 404
                    )
        # The same for the preview: an unknown invoice, someone else's.
        self._login()
        with mute_logger("odoo.http"):
            responses = [
                self._json_raw(
                    PREVIEW_ROUTE,
                    {"invoice_ids": str(invoice_id), "plan_kind": "deferred"},
                )
                for invoice_id in (self.other_invoice.id, UNKNOWN_PLAN_ID)
            ]
        foreign, unknown = (response.json()["error"] for response in responses)
        self.assertEqual(foreign["code"], 404)
        self.assertEqual(foreign, unknown)
        for response in responses:
            self.assertNotIn("MissingError", response.text)
            self.assertNotIn("AccessError", response.text)
        self.assertEqual(self._count_transactions(), tx_count)

    # ------------------------------------------------------------------
    # Lists of invoice ids
    # ------------------------------------------------------------------

    def test_invoice_ids_parser_is_capped_and_linear(self):
        parse = CollectionPortal._collection_parse_ids
        ids = list(range(1, 201))
        self.assertEqual(parse(",".join(map(str, ids))), ids)
        self.assertEqual(parse([str(i) for i in ids]), ids)
        self.assertEqual(parse(ids), ids)
        # The longest 200 ids, with a space after each comma.
        long_ids = list(range(2**31 - 200, 2**31))
        self.assertEqual(parse(", ".join(map(str, long_ids))), long_ids)
        # Duplicates are dropped, the order is kept.
        self.assertEqual(parse("3, 1,3 ,2"), [3, 1, 2])
        self.assertEqual(parse(["1,2", 2, "3"]), [1, 2, 3])
        # 201 ids are refused, however they are sent.
        self.assertIsNone(parse(",".join(map(str, range(1, 202)))))
        self.assertIsNone(parse([str(i) for i in range(1, 202)]))
        self.assertIsNone(parse(list(range(1, 202))))
        # A huge input is refused on its length, before it is split.
        huge = _NeverSplit(",".join(["1"] * 80_000))
        self.assertIsNone(parse(huge))
        self.assertIsNone(parse([huge]))
        self.assertIsNone(parse(["1"] * 80_000))
        self.assertIsNone(parse([2**31]))

        # Through HTTP: 404, nothing stored.
        plan_count = self._count_plans()
        token = self.invoice._portal_ensure_token()
        many_ids = ",".join(str(i) for i in range(1, 80_001))
        self.authenticate(None, None)
        with mute_logger("odoo.http"):
            answer = self._json(
                PREVIEW_ROUTE,
                {
                    "invoice_ids": many_ids,
                    "access_token": token,
                    "plan_kind": "monthly",
                },
            )
            self.assertEqual(answer["error"]["code"], 404)
            answer = self._json(
                PREVIEW_ROUTE,
                {
                    "invoice_ids": many_ids.split(","),
                    "access_token": token,
                    "plan_kind": "monthly",
                },
            )
            self.assertEqual(answer["error"]["code"], 404)
            response = self._post(
                self._form_data(self.invoice, invoice_ids=many_ids, access_token=token)
            )
            self.assertEqual(response.status_code, 404)
            self._login()
            answer = self._json(
                PREVIEW_ROUTE, {"invoice_ids": many_ids, "plan_kind": "monthly"}
            )
            self.assertEqual(answer["error"]["code"], 404)
            response = self._post(self._form_data(self.invoice, invoice_ids=many_ids))
            self.assertEqual(response.status_code, 404)
        self.assertEqual(self._count_plans(), plan_count)
        self._assert_not_blocked(self.invoice, self.invoice_2)
