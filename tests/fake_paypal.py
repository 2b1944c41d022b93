# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A fake of the PayPal REST API (Orders v2), served on 127.0.0.1 for the tests.

It answers the requests Odoo's ``payment_paypal`` sends with ``requests``
(``_paypal_make_request``): the OAuth token, the creation of an order, its
capture (with the capture's ``seller_receivable_breakdown``: gross, PayPal's fee,
net, as PayPal computes them) and the verification of a webhook's signature.

Public API (the rest is private):

* ``FakePayPal()``: ``start()`` / ``stop()``; ``url``; ``orders`` (the orders
  created, by id, as the API's JSON); ``requests`` (``(method, path, json,
  headers)`` tuples) and ``calls(method, path)``.
* Knobs: ``set_fees(percent, fixed)`` (PayPal's fee of the next captures: a
  percentage plus a fixed part in major units; 3.49 % + 0.49 by default);
  ``omit_breakdown = True`` (captures answered without their breakdown);
  ``exchange_rate`` / ``receivable_currency`` (captures converted to another
  currency by PayPal).
* ``FakePayPalMixin``: a test class mixin starting one fake per class
  (``cls.paypal_fake``) and sending the requests to PayPal's API hosts to it.

Idempotency: a capture sent again with the same ``PayPal-Request-Id`` gets the
first answer; capturing an order twice otherwise gets PayPal's 422
``ORDER_ALREADY_CAPTURED``.
"""

import itertools
import json
import re
import threading
from collections import namedtuple
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

PAYPAL_API_HOSTS = ("api-m.paypal.com", "api-m.sandbox.paypal.com")
ACCESS_TOKEN = "A21AAFakePayPalAccessToken"

FakePayPalRequest = namedtuple("FakePayPalRequest", "method path json headers")


def _money(value):
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class FakePayPal:
    """A stateful fake of PayPal's Orders v2 API (see the module's docstring)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server = None
        self.url = None
        self.reset()

    def start(self):
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-paypal", daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def reset(self):
        with self._lock:
            self.orders = {}
            self.requests = []
            self._idempotent = {}
            self.fee_percent = Decimal("3.49")
            self.fee_fixed = Decimal("0.49")
            self.omit_breakdown = False
            self.exchange_rate = None
            self.receivable_currency = None

    def set_fees(self, percent, fixed):
        with self._lock:
            self.fee_percent = Decimal(str(percent))
            self.fee_fixed = Decimal(str(fixed))

    def calls(self, method, path):
        return [
            request
            for request in self.requests
            if request.method == method and re.fullmatch(path, request.path)
        ]

    def _new_id(self, prefix):
        return f"{prefix}{next(self._ids):013d}"

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    def _handle(self, method, path, body, headers):
        with self._lock:
            self.requests.append(FakePayPalRequest(method, path, body, headers))
            if path == "/v1/oauth2/token":
                return 200, {
                    "access_token": ACCESS_TOKEN,
                    "token_type": "Bearer",
                    "expires_in": 32400,
                }
            if headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                return 401, {"error": "invalid_token", "message": "Invalid token"}
            key = headers.get("PayPal-Request-Id")
            if key and (path, key) in self._idempotent:
                return self._idempotent[(path, key)]
            answer = self._route(method, path, body)
            if key:
                self._idempotent[(path, key)] = answer
            return answer

    def _route(self, method, path, body):
        if method == "POST" and path == "/v2/checkout/orders":
            return self._create_order(body or {})
        match = re.fullmatch(r"/v2/checkout/orders/([^/]+)/capture", path)
        if method == "POST" and match:
            return self._capture(match.group(1))
        if method == "POST" and path == "/v1/notifications/verify-webhook-signature":
            return 200, {"verification_status": "SUCCESS"}
        return 404, {"name": "RESOURCE_NOT_FOUND", "message": "Not found"}

    def _create_order(self, body):
        order_id = self._new_id("ORDER")
        unit = body["purchase_units"][0]
        self.orders[order_id] = {
            "id": order_id,
            "intent": body.get("intent"),
            "status": "CREATED",
            "payment_source": {"paypal": {"account_id": "FAKEPAYERID"}},
            "purchase_units": [
                {
                    "reference_id": unit["reference_id"],
                    "amount": {
                        "currency_code": unit["amount"]["currency_code"],
                        "value": _money(str(unit["amount"]["value"])),
                    },
                }
            ],
        }
        return 201, {"id": order_id, "status": "CREATED"}

    def _capture(self, order_id):
        order = self.orders.get(order_id)
        if not order:
            return 404, {"name": "RESOURCE_NOT_FOUND", "message": "No such order"}
        if order["status"] == "COMPLETED":
            return 422, {
                "name": "UNPROCESSABLE_ENTITY",
                "details": [{"issue": "ORDER_ALREADY_CAPTURED"}],
                "message": "Order already captured.",
            }
        unit = order["purchase_units"][0]
        gross = Decimal(unit["amount"]["value"])
        currency = unit["amount"]["currency_code"]
        fee = (gross * self.fee_percent / 100 + self.fee_fixed).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        capture = {
            "id": self._new_id("CAPTURE"),
            "status": "COMPLETED",
            "amount": dict(unit["amount"]),
            "final_capture": True,
        }
        if not self.omit_breakdown:
            breakdown = {
                "gross_amount": {"currency_code": currency, "value": _money(gross)},
                "paypal_fee": {"currency_code": currency, "value": _money(fee)},
                "net_amount": {"currency_code": currency, "value": _money(gross - fee)},
            }
            if self.exchange_rate and self.receivable_currency:
                rate = Decimal(str(self.exchange_rate))
                breakdown["receivable_amount"] = {
                    "currency_code": self.receivable_currency,
                    "value": _money((gross - fee) * rate),
                }
                breakdown["exchange_rate"] = {
                    "source_currency": currency,
                    "target_currency": self.receivable_currency,
                    "value": str(rate),
                }
            capture["seller_receivable_breakdown"] = breakdown
        unit["payments"] = {"captures": [capture]}
        order["status"] = "COMPLETED"
        return 201, json.loads(json.dumps(order))


class _Handler(BaseHTTPRequestHandler):
    fake = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None  # the token request is form-encoded
        headers = {name: value for name, value in self.headers.items()}
        status, payload = self.fake._handle(
            "POST", urlsplit(self.path).path, body, headers
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakePayPalMixin:
    """Test class mixin: one ``FakePayPal`` per class in ``cls.paypal_fake``,
    emptied before each test, and every request to PayPal's API hosts (those of
    Odoo's ``payment_paypal``) sent to it instead. Put it before Odoo's test
    class in the bases."""

    @classmethod
    def setUpClass(cls):
        cls.paypal_fake = FakePayPal().start()
        super().setUpClass()
        cls.addClassCleanup(cls.paypal_fake.stop)

    def setUp(self):
        super().setUp()
        self.paypal_fake.reset()

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        url = urlsplit(r.url)
        if url.hostname in PAYPAL_API_HOSTS:
            fake = urlsplit(cls.paypal_fake.url)
            r.url = urlunsplit(("http", fake.netloc, url.path, url.query, ""))
        return super()._request_handler(s, r, **kw)
