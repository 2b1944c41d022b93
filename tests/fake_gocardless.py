# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A fake of the GoCardless API, served on 127.0.0.1 inside the tests.

The real ``gocardless_pro`` SDK talks to it: test classes mix in
:class:`FakeGoCardlessMixin`, whose ``_request_handler`` (Odoo's patch of
``requests.Session.send`` in tests) rewrites the requests the SDK sends to
``api.gocardless.com`` / ``api-sandbox.gocardless.com`` onto the fake. The
production code keeps the real URLs.

Public API (kept small: the lead's tour imports it):

* :class:`FakeGoCardless` — the server and its resources:

  - ``url``: the fake's base URL (``http://127.0.0.1:<port>``);
  - ``customers``, ``billing_requests``, ``flows``, ``mandates``, ``payments``,
    ``creditors``: dicts of the resources it holds, by id, as the API's JSON;
  - ``calls``: the requests received (see :meth:`FakeGoCardless.calls_to`);
  - ``fail_next(count, mode, path=None)``: the next ``count`` requests (to
    ``path`` only, a prefix such as ``"/payments"``) fail with ``mode``: ``"500"``
    (a GoCardless internal error, JSON), ``"502"`` (a non-JSON proxy error page),
    ``"drop"`` (the connection is closed without an answer), ``"drop_after"``
    (the request is processed, then the connection is closed without an
    answer: a lost answer), ``"mandate_inactive"`` (422 ``invalid_state``
    ``mandate_is_inactive``);
  - ``create_mandate(status="active", ...)``: a mandate (and its customer) made
    directly, for debit tests that skip the hosted page;
  - ``authorise(flow_id)``: what the "Authorise" link of the hosted page does
    (fulfils the billing request, creates the mandate); returns the
    ``redirect_uri``;
  - ``cancel_billing_request(br_id)``;
  - ``set_payment_status(payment_id, status)``, ``set_mandate_status(mandate_id,
    status)``;
  - ``create_payout(payment_ids, fee_percent=1, fee_fixed=20, app_fee=0)``: a paid
    payout of those payments, with its payout items (``payment_paid_out``,
    ``gocardless_fee``, ``app_fee``) served by ``GET /payout_items``;
  - ``event(resource_type, action, links, cause=None, ...)``: one event as
    GoCardless sends it; ``webhook(events, secret)``: ``(body, headers)`` of a
    signed webhook request carrying them.

* :func:`sign` — the ``Webhook-Signature`` of a body: the lowercase hex
  HMAC-SHA256 of the raw body, keyed with the endpoint's secret.

* :class:`FakeGoCardlessMixin` — starts one fake per test class
  (``cls.gocardless_fake``), empties it before each test, and routes the SDK's
  requests to it.

The hosted page of a billing request flow is served by the fake itself at the
``authorisation_url`` it returns (``<url>/flow/<BRF id>``): a page with the
customer's prefilled details, an "Authorise" link (``<url>/flow/<BRF
id>/authorise``: fulfils the billing request, creates the mandate ``MD…`` and
redirects (303) to the flow's ``redirect_uri``) and a "Cancel" link (to its
``exit_uri``).
"""

import hashlib
import hmac
import html
import itertools
import json
import threading
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# The hosts the SDK talks to (live and sandbox).
GOCARDLESS_API_HOSTS = ("api.gocardless.com", "api-sandbox.gocardless.com")
# The header the rewrite adds: which real host the request was sent to.
ORIGINAL_HOST_HEADER = "X-Fake-Original-Host"
# The credentials the fake accepts by default (any other token gets 401).
ACCESS_TOKEN = "sandbox_apc_fake_access_token"
WEBHOOK_SECRET = "apc_fake_webhook_secret"
CREDITOR_ID = "CR000APCFAKE"
CREDITOR_NAME = "Fake Creditor SAS"

# Mandate statuses against which GoCardless refuses to create a payment.
INACTIVE_MANDATE_STATUSES = ("cancelled", "expired", "failed", "consumed", "blocked")
# The currency of the payments of a mandate, by scheme.
SCHEME_CURRENCIES = {"sepa_core": "EUR", "bacs": "GBP", "ach": "USD"}


def sign(body, secret):
    """Return the ``Webhook-Signature`` header of ``body`` as GoCardless computes
    it: the lowercase hex HMAC-SHA256 of the raw body, keyed with ``secret``.

    :param body: the raw request body (``bytes`` or ``str``)
    :param str secret: the webhook endpoint's secret
    :rtype: str
    """
    if isinstance(body, str):
        body = body.encode()
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGoCardless/1.0"

    def log_message(self, *args):
        """Keep the test logs quiet."""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.server.fake._handle(self, method, raw)

    def _send(self, status, payload=None, content_type="application/json", headers=()):
        if payload is None:
            body = b""
        elif isinstance(payload, bytes):
            body = payload
        elif isinstance(payload, str):
            body = payload.encode()
        else:
            body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self):
        """Close the connection without answering: the client sees the
        connection closed (``requests.ConnectionError``) at once."""
        self.close_connection = True


class FakeGoCardless:
    """A threaded fake of the GoCardless API on 127.0.0.1 (see the module's
    docstring). ``access_token`` is the only bearer token it accepts."""

    def __init__(self, access_token=ACCESS_TOKEN):
        self._default_access_token = access_token
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-gocardless", daemon=True
        )
        self._thread.start()
        self.reset()

    def stop(self):
        """Stop the server (at the end of the test class)."""
        self._server.shutdown()
        self._server.server_close()

    def reset(self):
        """Forget every resource, call, failure and idempotency key, and accept
        the default access token again."""
        with self._lock:
            self.access_token = self._default_access_token
            self._ids = itertools.count(1)
            self.customers = {}
            self.billing_requests = {}
            self.flows = {}
            self.mandates = {}
            self.payments = {}
            self.payouts = {}
            self.payout_items = {}
            self.creditors = {
                CREDITOR_ID: {
                    "id": CREDITOR_ID,
                    "name": CREDITOR_NAME,
                    "country_code": "FR",
                    "created_at": _now(),
                }
            }
            self.calls = []
            self._failures = []
            self._idempotency = {}

    # ------------------------------------------------------------------
    # Knobs
    # ------------------------------------------------------------------

    def fail_next(self, count=1, mode="500", path=None):
        """Make the next ``count`` requests (whose path starts with ``path``,
        when given) fail with ``mode`` (see the module's docstring)."""
        assert mode in ("500", "502", "drop", "drop_after", "mandate_inactive")
        with self._lock:
            self._failures.extend([(mode, path)] * count)

    def calls_to(self, method, path):
        """The calls received with ``method`` to exactly ``path``, or to a path
        under it for a path ending with ``/``: dicts with ``method``, ``path``,
        ``query`` (dict of lists), ``headers`` (dict; the ``Authorization``
        header is not kept), ``host`` (the real host the SDK aimed at), ``json``
        (the decoded body or None) and ``status`` (the answer's)."""
        with self._lock:
            return [
                call
                for call in self.calls
                if call["method"] == method
                and (
                    call["path"] == path
                    or (path.endswith("/") and call["path"].startswith(path))
                )
            ]

    def create_mandate(self, status="active", customer=None, scheme="sepa_core"):
        """Create a mandate (and its customer) as if a billing request had been
        fulfilled, and return it."""
        with self._lock:
            customer = customer or self._create_customer(
                {"given_name": "Claire", "family_name": "Martin"}
            )
            mandate_id = self._new_id("MD")
            mandate = {
                "id": mandate_id,
                "reference": f"APC-{mandate_id[-6:]}",
                "status": status,
                "scheme": scheme,
                "created_at": _now(),
                "next_possible_charge_date": (
                    date.today() + timedelta(days=3)
                ).isoformat(),
                "payments_require_approval": False,
                "metadata": {},
                "links": {
                    "creditor": CREDITOR_ID,
                    "customer": customer["id"],
                    "customer_bank_account": self._new_id("BA"),
                },
            }
            self.mandates[mandate_id] = mandate
            return mandate

    def authorise(self, flow_id):
        """Do what the hosted page's "Authorise" link does: fulfil the flow's
        billing request (creating the customer and the mandate), and return the
        flow's ``redirect_uri``."""
        with self._lock:
            flow = self.flows[flow_id]
            billing_request = self.billing_requests[flow["links"]["billing_request"]]
            if billing_request["status"] != "fulfilled":
                customer = self.customers.get(billing_request["links"].get("customer"))
                customer = customer or self._create_customer(
                    flow.get("prefilled_customer") or {}
                )
                mandate = self.create_mandate(
                    status="pending_submission",
                    customer=customer,
                    scheme=billing_request["mandate_request"].get("scheme"),
                )
                billing_request["status"] = "fulfilled"
                billing_request["links"].update(
                    customer=customer["id"],
                    mandate_request_mandate=mandate["id"],
                )
                billing_request["mandate_request"]["links"] = {"mandate": mandate["id"]}
            return flow["redirect_uri"]

    def cancel_billing_request(self, billing_request_id):
        with self._lock:
            self.billing_requests[billing_request_id]["status"] = "cancelled"
            return self.billing_requests[billing_request_id]

    def set_payment_status(self, payment_id, status):
        with self._lock:
            self.payments[payment_id]["status"] = status

    def create_payout(self, payment_ids, fee_percent=1, fee_fixed=20, app_fee=0):
        """Pay out ``payment_ids`` (``paid_out``) in one payout whose items are,
        for each payment, ``payment_paid_out`` (its amount), ``gocardless_fee``
        (``fee_percent`` % of it plus ``fee_fixed`` cents) and, when not 0,
        ``app_fee`` (cents), as strings of cents with one decimal as the API
        gives them; return the payout."""
        with self._lock:
            payout_id = self._new_id("PO")
            items = []
            total = 0
            for payment_id in payment_ids:
                payment = self.payments[payment_id]
                payment["status"] = "paid_out"
                payment["links"]["payout"] = payout_id
                amount = payment["amount"]
                fee = round(amount * fee_percent / 100) + fee_fixed
                links = {"payment": payment_id, "mandate": payment["links"]["mandate"]}
                items.append(
                    {
                        "type": "payment_paid_out",
                        "amount": f"{amount}.0",
                        "links": links,
                    }
                )
                items.append(
                    {
                        "type": "gocardless_fee",
                        "amount": f"-{fee}.0",
                        "links": dict(links),
                        "taxes": [],
                    }
                )
                if app_fee:
                    items.append(
                        {"type": "app_fee", "amount": f"-{app_fee}.0", "links": links}
                    )
                total += amount - fee - app_fee
            currency = (
                self.payments[payment_ids[0]]["currency"] if payment_ids else "EUR"
            )
            self.payouts[payout_id] = {
                "id": payout_id,
                "amount": total,
                "currency": currency,
                "status": "paid",
                "payout_type": "merchant",
                "created_at": _now(),
                "links": {"creditor": CREDITOR_ID},
            }
            self.payout_items[payout_id] = items
            return self.payouts[payout_id]

    def set_mandate_status(self, mandate_id, status):
        with self._lock:
            self.mandates[mandate_id]["status"] = status

    def event(
        self,
        resource_type,
        action,
        links,
        cause=None,
        description=None,
        event_id=None,
        resource_metadata=None,
        origin="gocardless",
    ):
        """One event as GoCardless sends it in a webhook.

        :param str resource_type: plural, as on the wire: ``payments``,
            ``mandates``, ``billing_requests``, ...
        :param str action: e.g. ``confirmed``, ``failed``, ``cancelled``
        :param dict links: e.g. ``{"payment": "PM…"}``
        :param str event_id: a new ``EV…`` id by default
        :rtype: dict
        """
        with self._lock:
            event_id = event_id or self._new_id("EV")
        details = {
            "origin": origin,
            "cause": cause or f"{resource_type[:-1]}_{action}",
            "description": description or f"The {resource_type[:-1]} was {action}.",
        }
        if cause in ("insufficient_funds", "refer_to_payer", "bank_account_closed"):
            details.update(scheme="sepa_core", reason_code="AM04")
        return {
            "id": event_id,
            "created_at": _now(),
            "resource_type": resource_type,
            "action": action,
            "links": dict(links),
            "details": details,
            "metadata": {},
            "resource_metadata": dict(resource_metadata or {}),
        }

    def webhook(self, events, secret=WEBHOOK_SECRET):
        """The body and headers of a webhook request carrying ``events``,
        signed with ``secret`` exactly as GoCardless signs it.

        :return: ``(body, headers)``, ``body`` as bytes
        """
        with self._lock:
            webhook_id = self._new_id("WB")
        body = json.dumps(
            {"events": list(events), "meta": {"webhook_id": webhook_id}}
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Origin": "https://api.gocardless.com",
            "User-Agent": "gocardless-webhook-service/1.1",
            "Webhook-Signature": sign(body, secret),
        }
        return body, headers

    # ------------------------------------------------------------------
    # Request handling
    # ------------------------------------------------------------------

    def _new_id(self, prefix):
        return f"{prefix}{next(self._ids):010d}"

    def _handle(self, handler, method, raw):
        split = urlsplit(handler.path)
        path = split.path.rstrip("/") or "/"
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {
            name: value
            for name, value in handler.headers.items()
            if name.lower() != "authorization"
        }
        call = {
            "method": method,
            "path": path,
            "query": parse_qs(split.query),
            "headers": headers,
            "host": handler.headers.get(ORIGINAL_HOST_HEADER),
            "json": body,
            "status": None,
        }
        with self._lock:
            self.calls.append(call)
            if path.startswith("/flow/"):
                return self._hosted_page(handler, call, path)
            if handler.headers.get("Authorization") != f"Bearer {self.access_token}":
                return self._answer(
                    handler,
                    call,
                    401,
                    self._error(
                        401,
                        "invalid_api_usage",
                        "Invalid token",
                        "invalid_token",
                        "The access token you've used is not a valid live or "
                        "sandbox API token",
                    ),
                )
            failure = next(
                (
                    failure
                    for failure in self._failures
                    if failure[1] is None or path.startswith(failure[1])
                ),
                None,
            )
            if failure:
                self._failures.remove(failure)
                mode = failure[0]
                if mode == "drop":
                    call["status"] = "dropped"
                    return handler._drop()
                if mode == "500":
                    return self._answer(
                        handler,
                        call,
                        500,
                        self._error(
                            500,
                            "gocardless",
                            "Uh-oh! Something went wrong on our end.",
                            "internal_server_error",
                            "Uh-oh! Something went wrong on our end.",
                        ),
                    )
                if mode == "502":
                    call["status"] = 502
                    return handler._send(
                        502, "<html><body>Bad gateway</body></html>", "text/html"
                    )
                if mode == "mandate_inactive":
                    return self._answer(handler, call, *self._mandate_inactive())
            status, payload = self._route(method, path, call)
            if failure and failure[0] == "drop_after":
                call["status"] = "dropped"
                return handler._drop()
            return self._answer(handler, call, status, payload)

    def _answer(self, handler, call, status, payload):
        call["status"] = status
        handler._send(status, payload)

    @staticmethod
    def _error(code, error_type, message, reason, reason_message, links=None):
        error = {"reason": reason, "message": reason_message}
        if links:
            error["links"] = links
        return {
            "error": {
                "message": message,
                "documentation_url": "https://developer.gocardless.com/api-reference#"
                + reason,
                "type": error_type,
                "request_id": "fake-request-id",
                "errors": [error],
                "code": code,
            }
        }

    def _mandate_inactive(self):
        return 422, self._error(
            422,
            "invalid_state",
            "Mandate is cancelled, failed or expired",
            "mandate_is_inactive",
            "The mandate is cancelled, failed or expired",
        )

    def _not_found(self):
        return 404, self._error(
            404,
            "invalid_api_usage",
            "Resource not found",
            "resource_not_found",
            "Resource not found",
        )

    def _route(self, method, path, call):
        parts = path.strip("/").split("/")
        resource = parts[0]
        identity = parts[1] if len(parts) > 1 else None
        body = call["json"] or {}
        if method == "POST" and identity is None:
            key = call["headers"].get("Idempotency-Key")
            if key and (path, key) in self._idempotency:
                conflicting_id = self._idempotency[(path, key)]
                return 409, self._error(
                    409,
                    "invalid_state",
                    "A resource has already been created with this idempotency key",
                    "idempotent_creation_conflict",
                    "A resource has already been created with this idempotency key",
                    links={"conflicting_resource_id": conflicting_id},
                )
            creator = {
                "customers": self._post_customer,
                "billing_requests": self._post_billing_request,
                "billing_request_flows": self._post_flow,
                "payments": self._post_payment,
            }.get(resource)
            if not creator:
                return self._not_found()
            status, payload = creator(body.get(resource) or {})
            if status == 201 and key:
                self._idempotency[(path, key)] = payload[resource]["id"]
            return status, payload
        if method == "POST" and resource == "billing_requests" and len(parts) == 4:
            billing_request = self.billing_requests.get(identity)
            if not billing_request:
                return self._not_found()
            if parts[3] == "cancel":
                billing_request["status"] = "cancelled"
            elif parts[3] == "fulfil":
                billing_request["status"] = "fulfilled"
            return 200, {"billing_requests": billing_request}
        if method == "GET" and resource == "payout_items":
            return self._list_payout_items(call["query"])
        if method == "GET":
            store = {
                "customers": self.customers,
                "billing_requests": self.billing_requests,
                "mandates": self.mandates,
                "payments": self.payments,
                "creditors": self.creditors,
                "payouts": self.payouts,
            }.get(resource)
            if store is None:
                return self._not_found()
            if identity is None:
                return 200, {
                    resource: list(store.values()),
                    "meta": {"cursors": {"before": None, "after": None}, "limit": 50},
                }
            if identity not in store:
                return self._not_found()
            return 200, {resource: store[identity]}
        return self._not_found()

    def _list_payout_items(self, query):
        """A page of the items of a payout (``payout`` required; ``limit`` and
        the ``after`` cursor as the API pages them)."""
        payout_id = (query.get("payout") or [None])[0]
        if payout_id not in self.payout_items:
            return 422 if not payout_id else 404, self._error(
                422 if not payout_id else 404,
                "validation_failed" if not payout_id else "invalid_api_usage",
                "Validation failed" if not payout_id else "Resource not found",
                "validation_failed" if not payout_id else "resource_not_found",
                "payout is required" if not payout_id else "Resource not found",
            )
        items = self.payout_items[payout_id]
        limit = int((query.get("limit") or [50])[0])
        start = int((query.get("after") or [0])[0])
        page = items[start : start + limit]
        after = str(start + limit) if start + limit < len(items) else None
        return 200, {
            "payout_items": page,
            "meta": {"cursors": {"before": None, "after": after}, "limit": limit},
        }

    def _create_customer(self, values):
        customer_id = self._new_id("CU")
        customer = {
            "id": customer_id,
            "created_at": _now(),
            "metadata": {},
            **{
                key: value
                for key, value in values.items()
                if key
                in (
                    "given_name",
                    "family_name",
                    "company_name",
                    "email",
                    "address_line1",
                    "address_line2",
                    "city",
                    "postal_code",
                    "country_code",
                    "language",
                )
            },
        }
        self.customers[customer_id] = customer
        return customer

    def _post_customer(self, values):
        return 201, {"customers": self._create_customer(values)}

    def _post_billing_request(self, values):
        mandate_request = values.get("mandate_request")
        if not mandate_request and not values.get("payment_request"):
            return 422, self._error(
                422,
                "validation_failed",
                "Validation failed",
                "validation_failed",
                "mandate_request or payment_request is required",
            )
        billing_request_id = self._new_id("BRQ")
        billing_request = {
            "id": billing_request_id,
            "status": "pending",
            "created_at": _now(),
            "metadata": values.get("metadata") or {},
            "mandate_request": {
                **(mandate_request or {}),
                "links": {},
            },
            "links": {
                "creditor": CREDITOR_ID,
                "customer": (values.get("links") or {}).get("customer"),
                "mandate_request": self._new_id("MRQ"),
            },
            "actions": [
                {"type": "collect_customer_details", "required": True},
                {"type": "collect_bank_account", "required": True},
            ],
        }
        self.billing_requests[billing_request_id] = billing_request
        return 201, {"billing_requests": billing_request}

    def _post_flow(self, values):
        billing_request_id = (values.get("links") or {}).get("billing_request")
        if billing_request_id not in self.billing_requests:
            return self._not_found()
        flow_id = self._new_id("BRF")
        flow = {
            "id": flow_id,
            "authorisation_url": f"{self.url}/flow/{flow_id}",
            "created_at": _now(),
            "expires_at": (datetime.now(timezone.utc) + timedelta(days=7)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            ),
            "auto_fulfil": True,
            "lock_customer_details": bool(values.get("lock_customer_details")),
            "lock_bank_account": bool(values.get("lock_bank_account")),
            "redirect_uri": values.get("redirect_uri"),
            "exit_uri": values.get("exit_uri"),
            "language": values.get("language"),
            "prefilled_customer": values.get("prefilled_customer") or {},
            "links": {"billing_request": billing_request_id},
        }
        self.flows[flow_id] = flow
        return 201, {"billing_request_flows": flow}

    def _post_payment(self, values):
        mandate_id = (values.get("links") or {}).get("mandate")
        mandate = self.mandates.get(mandate_id)
        if not mandate:
            return self._not_found()
        if mandate["status"] in INACTIVE_MANDATE_STATUSES:
            return self._mandate_inactive()
        currency = SCHEME_CURRENCIES.get(mandate["scheme"])
        if currency and values.get("currency") != currency:
            return 422, self._error(
                422,
                "validation_failed",
                "Validation failed",
                "validation_failed",
                f"currency must be {currency} for a {mandate['scheme']} mandate",
            )
        amount = values.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            return 422, self._error(
                422,
                "validation_failed",
                "Validation failed",
                "validation_failed",
                "amount must be a positive integer",
            )
        payment_id = self._new_id("PM")
        payment = {
            "id": payment_id,
            "amount": amount,
            "amount_refunded": 0,
            "currency": values.get("currency"),
            "charge_date": values.get("charge_date")
            or mandate["next_possible_charge_date"],
            "created_at": _now(),
            "description": values.get("description"),
            "reference": values.get("reference"),
            "metadata": values.get("metadata") or {},
            "retry_if_possible": values.get("retry_if_possible", False),
            "scheme": mandate["scheme"],
            "status": "pending_submission",
            "links": {"mandate": mandate_id, "creditor": CREDITOR_ID},
        }
        self.payments[payment_id] = payment
        return 201, {"payments": payment}

    def _hosted_page(self, handler, call, path):
        """The fake's hosted page of a billing request flow."""
        parts = path.strip("/").split("/")
        flow = self.flows.get(parts[1]) if len(parts) > 1 else None
        if not flow:
            call["status"] = 404
            return handler._send(404, "Not found", "text/plain")
        if len(parts) == 3 and parts[2] == "authorise":
            redirect_uri = self.authorise(flow["id"])
            call["status"] = 303
            return handler._send(303, b"", "text/plain", [("Location", redirect_uri)])
        customer = flow.get("prefilled_customer") or {}
        details = "".join(
            f"<li><span class='o_fake_gc_{html.escape(key)}'>"
            f"{html.escape(str(value))}</span></li>"
            for key, value in customer.items()
        )
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'/>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'/>"
            "<title>GoCardless (fake)</title></head><body>"
            f"<h1>Set up a Direct Debit with {html.escape(CREDITOR_NAME)}</h1>"
            f"<ul id='prefilled_customer'>{details}</ul>"
            f"<a id='authorise' href='/flow/{flow['id']}/authorise'>Authorise</a> "
            f"<a id='exit' href='{html.escape(flow.get('exit_uri') or '/')}'>Cancel</a>"
            "</body></html>"
        )
        call["status"] = 200
        return handler._send(200, page, "text/html; charset=utf-8")


class FakeGoCardlessMixin:
    """Mix into an Odoo test class (before the Odoo base class) to serve the
    GoCardless API from a :class:`FakeGoCardless` (``cls.gocardless_fake``),
    emptied before each test."""

    @classmethod
    def setUpClass(cls):
        cls.gocardless_fake = FakeGoCardless()
        cls.addClassCleanup(cls.gocardless_fake.stop)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.gocardless_fake.reset()

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        """Send the requests aimed at GoCardless's API to the fake."""
        split = urlsplit(r.url)
        if split.hostname in GOCARDLESS_API_HOSTS:
            r.headers[ORIGINAL_HOST_HEADER] = split.hostname
            query = f"?{split.query}" if split.query else ""
            r.url = f"{cls.gocardless_fake.url}{split.path}{query}"
        return super()._request_handler(s, r, **kw)
