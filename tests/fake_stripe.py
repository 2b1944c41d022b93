# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A fake of the Stripe API, served on 127.0.0.1 for the tests.

It answers the calls the add-on makes through the ``stripe`` SDK and those Odoo's
``payment_stripe`` makes with ``requests``, form-encoded as both send them, and
keeps what it creates in dicts (``customers``, ``sessions``, ``setup_intents``,
``payment_methods``, ``mandates``, ``payment_intents``, ``charges``,
``disputes``, ``balance_transactions``, ``webhook_endpoints``), with Stripe's ids
and statuses.

Public API (the rest is private):

* ``FakeStripe()``: ``start()`` / ``stop()``; ``url`` (``http://127.0.0.1:<port>``);
  ``requests``, the list of ``FakeStripeRequest`` received (``method``, ``path``,
  ``params``, ``headers``), and ``calls(method, path)`` to filter them;
  ``page_views``, the paths of the hosted pages browsers opened.
* The hosted page: a Checkout Session's ``url`` is a small HTML page of the fake
  whose "Save" link (``<url>/save``) completes the session as the customer would
  (a succeeded setup intent with a Visa card 4242, or a SEPA debit with an active
  mandate) and redirects to its ``success_url``; "Cancel" goes to ``cancel_url``.
  ``complete_session(session_id)`` and ``expire_session(session_id)`` do the same
  without a browser.
* Knobs: ``decline_next(code, decline_code=None)`` makes the next confirmations of
  a PaymentIntent answer 402 like Stripe (``card_error``, the failed intent in
  ``error.payment_intent``); ``fail_next(count, mode="500"|"drop",
  after_processing=True)`` answers the next calls with a server error, or closes
  the connection without answering, after having processed them (the caller does
  not know that the object was created) or before.
* Fees: ``set_fees(percent, fixed, balance_currency=None, exchange_rate=None)``
  gives each charge that succeeds a balance transaction with Stripe's fee (none
  by default: a fee of 0).
* Later outcomes: ``succeed_payment_intent(pi_id)``, ``fail_payment_intent(pi_id,
  code)`` (a SEPA debit that was ``processing``), ``create_dispute(pi_id)``,
  ``detach_payment_method(pm_id)`` (its mandate becomes inactive).
* Webhooks: ``event(type, obj, secret)`` returns the body and headers of an event
  signed like Stripe signs them (``Stripe-Signature: t=…,v1=…``).
* ``StripeFakeMixin``: a test class mixin starting one fake per class
  (``cls.stripe_fake``) and sending the requests to ``api.stripe.com`` to it.

Idempotency: a POST with an ``Idempotency-Key`` is answered, every time the key
comes again, with the first answer (also a 402), without creating anything; the
same key with other parameters gets Stripe's 400 ``idempotency_error``.
"""

import html
import itertools
import json
import re
import threading
import time
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import stripe

FakeStripeRequest = namedtuple("FakeStripeRequest", "method path params headers")

# The id prefixes of the objects, and the dict of the fake that holds them.
_PREFIXES = (
    ("cus_", "customers"),
    ("cs_", "sessions"),
    ("seti_", "setup_intents"),
    ("pm_", "payment_methods"),
    ("mandate_", "mandates"),
    ("pi_", "payment_intents"),
    ("ch_", "charges"),
    ("dp_", "disputes"),
    ("txn_", "balance_transactions"),
)

# What the fake says for the failures tests ask for (Stripe's messages).
_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_required": "Your card was declined. This transaction requires "
    "authentication.",
    "expired_card": "Your card has expired.",
    "generic_decline": "Your card was declined.",
}


class _StripeAnswer(Exception):
    """An API error answer: raised by a route, turned into the JSON Stripe sends."""

    def __init__(self, status, error):
        super().__init__(status, error)
        self.status = status
        self.error = error


def decode_form(pairs):
    """Decode Stripe's form encoding (``a[b][0][c]=v``, ``a[]=v``) into nested
    dicts and lists of strings, as Stripe reads it."""
    root = {}
    for key, value in pairs:
        names = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for index, name in enumerate(names):
            if name == "":  # a[]: the next item of the list
                name = str(len(node))
            if index == len(names) - 1:
                node[name] = value
            else:
                node = node.setdefault(name, {})
    return _listify(root)


def _listify(value):
    """Turn the dicts whose keys are all indexes (``a[0]``, ``a[1]``) into lists."""
    if isinstance(value, list):
        return [_listify(item) for item in value]
    if isinstance(value, dict):
        if value and all(key.isdigit() for key in value):
            return [_listify(value[key]) for key in sorted(value, key=int)]
        return {key: _listify(item) for key, item in value.items()}
    return value


def _is_true(value):
    return str(value).lower() == "true"


class FakeStripe:
    """A stateful fake of the Stripe API on a loopback port (see the module's
    documentation)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server = None
        self._thread = None
        self.url = None
        self.reset()

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------

    def start(self):
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-stripe", daemon=True
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
        """Forget every object, request, idempotency key and knob."""
        with self._lock:
            self.customers = {}
            self.sessions = {}
            self.setup_intents = {}
            self.payment_methods = {}
            self.mandates = {}
            self.payment_intents = {}
            self.charges = {}
            self.disputes = {}
            self.balance_transactions = {}
            # The fees of the charges (Stripe's pricing: a percentage and a fixed
            # part, in minor units); none unless a test sets them.
            self.fee_percent = 0
            self.fee_fixed = 0
            self.balance_currency = None
            self.exchange_rate = None
            self.webhook_endpoints = {}
            self.requests = []
            self.page_views = []
            self._idempotent = {}
            self._failures = []
            self._declines = []

    # ------------------------------------------------------------------
    # Knobs
    # ------------------------------------------------------------------

    def decline_next(self, code, decline_code=None, count=1, message=None):
        """Decline the next ``count`` PaymentIntent confirmations with a 402
        ``card_error`` (``code``, e.g. ``card_declined``, ``expired_card``,
        ``authentication_required``; ``decline_code`` e.g. ``insufficient_funds``)."""
        with self._lock:
            self._declines.extend(
                [{"code": code, "decline_code": decline_code, "message": message}]
                * count
            )

    def fail_next(
        self, count=1, mode="500", after_processing=True, path=None, method=None
    ):
        """Answer the next ``count`` API calls (those to ``path`` only, if given:
        a path or a regular expression, and with ``method`` only, if given) with
        a 500 ``api_error`` (``mode="500"``) or by closing the connection without
        an answer (``mode="drop"``); ``after_processing``: the call is processed
        (objects created, its idempotency key stored) before failing."""
        assert mode in ("500", "drop")
        with self._lock:
            self._failures.extend(
                [
                    {
                        "mode": mode,
                        "after": after_processing,
                        "path": path,
                        "method": method,
                    }
                ]
                * count
            )

    def set_fees(self, percent, fixed, balance_currency=None, exchange_rate=None):
        """Charge fees on the next charges that succeed: ``percent`` of the
        amount plus ``fixed`` minor units, in the ``balance_currency`` of the
        account (the charge's by default; another one needs the
        ``exchange_rate`` from the charge's currency to it)."""
        with self._lock:
            self.fee_percent = percent
            self.fee_fixed = fixed
            self.balance_currency = balance_currency
            self.exchange_rate = exchange_rate

    def calls(self, method, path):
        """The requests received with that method and path (exact, or a regex)."""
        return [
            request
            for request in self.requests
            if request.method == method and re.fullmatch(path, request.path)
        ]

    # ------------------------------------------------------------------
    # What happens at Stripe later (customer, bank, scheme)
    # ------------------------------------------------------------------

    def complete_session(self, session_id):
        """The customer saves their card (Visa 4242) or SEPA mandate on the page.

        :return: the session, with its setup intent, payment method and mandate
            expanded
        """
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                return self._expand(session, ["setup_intent.payment_method"])
            types = session.get("allowed_payment_method_types") or ["card"]
            customer = session["customer"]
            if "sepa_debit" in types and "card" not in types:
                pm = self._new(
                    "pm_",
                    {
                        "object": "payment_method",
                        "type": "sepa_debit",
                        "customer": customer,
                        "sepa_debit": {
                            "bank_code": "37040044",
                            "country": "DE",
                            "last4": "3000",
                        },
                        "billing_details": {"email": None, "name": None},
                    },
                )
                mandate = self._new(
                    "mandate_",
                    {
                        "object": "mandate",
                        "status": "active",
                        "type": "multi_use",
                        "payment_method": pm["id"],
                        "payment_method_details": {"type": "sepa_debit"},
                    },
                )
                mandate_id = mandate["id"]
            else:
                pm = self._new(
                    "pm_",
                    {
                        "object": "payment_method",
                        "type": "card",
                        "customer": customer,
                        "card": {
                            "brand": "visa",
                            "country": "US",
                            "exp_month": 12,
                            "exp_year": 2034,
                            "last4": "4242",
                        },
                        "billing_details": {"email": None, "name": None},
                    },
                )
                mandate_id = None
            setup_intent = self._new(
                "seti_",
                {
                    "object": "setup_intent",
                    "status": "succeeded",
                    "customer": customer,
                    "payment_method": pm["id"],
                    "mandate": mandate_id,
                    "usage": "off_session",
                    "metadata": dict(
                        (session.get("setup_intent_data") or {}).get("metadata") or {}
                    ),
                    "last_setup_error": None,
                },
            )
            session.update(status="complete", setup_intent=setup_intent["id"])
            return self._expand(session, ["setup_intent.payment_method"])

    def expire_session(self, session_id):
        """The session expires (the customer never saved anything)."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] == "open":
                session["status"] = "expired"
            return dict(session)

    def succeed_payment_intent(self, pi_id):
        """A ``processing`` SEPA debit is paid."""
        with self._lock:
            intent = self.payment_intents[pi_id]
            intent.update(status="succeeded", last_payment_error=None)
            self._charge(intent, "succeeded")
            return self._expand(intent, [])

    def fail_payment_intent(self, pi_id, code="insufficient_funds", message=None):
        """A ``processing`` SEPA debit is refused by the customer's bank."""
        with self._lock:
            intent = self.payment_intents[pi_id]
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": code,
                    "message": message or f"The debit failed: {code}.",
                    "payment_method": {"id": intent["payment_method"]},
                },
            )
            self._charge(intent, "failed")
            return self._expand(intent, [])

    def create_dispute(self, pi_id, reason="fraudulent", status="needs_response"):
        """The customer disputes a succeeded payment with their bank."""
        with self._lock:
            intent = self.payment_intents[pi_id]
            return dict(
                self._new(
                    "dp_",
                    {
                        "object": "dispute",
                        "amount": intent["amount"],
                        "currency": intent["currency"],
                        "charge": intent["latest_charge"],
                        "payment_intent": pi_id,
                        "reason": reason,
                        "status": status,
                    },
                )
            )

    def detach_payment_method(self, pm_id):
        """The customer (or the merchant, in the dashboard) removes the payment
        method; its mandate, if any, becomes inactive."""
        with self._lock:
            pm = self.payment_methods[pm_id]
            pm["customer"] = None
            for mandate in self.mandates.values():
                if mandate["payment_method"] == pm_id:
                    mandate["status"] = "inactive"
            return dict(pm)

    # ------------------------------------------------------------------
    # Webhooks
    # ------------------------------------------------------------------

    def event(self, event_type, obj, secret, timestamp=None, event_id=None):
        """A webhook event as Stripe posts it.

        :param str event_type: e.g. ``checkout.session.completed``
        :param dict obj: the event's ``data.object``
        :param str secret: the endpoint's signing secret (``whsec_…``)
        :return: ``(body, headers)``, to post as they are
        :rtype: tuple(str, dict)
        """
        event_id = event_id or f"evt_{next(self._ids):014d}"
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "api_version": "2019-05-16",
                "created": int(timestamp or time.time()),
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": event_type,
                "data": {"object": obj},
            }
        )
        signature = stripe.WebhookSignature.generate_signature_header(
            body, secret, timestamp=timestamp and int(timestamp)
        )
        return body, {"Content-Type": "application/json", "Stripe-Signature": signature}

    # ------------------------------------------------------------------
    # Objects
    # ------------------------------------------------------------------

    def _new(self, prefix, values):
        store = getattr(self, dict(_PREFIXES)[prefix])
        obj = {
            "id": f"{prefix}test_{next(self._ids):014d}",
            "livemode": False,
            "created": int(time.time()),
            **values,
        }
        store[obj["id"]] = obj
        return obj

    def _get(self, object_id):
        for prefix, name in _PREFIXES:
            if isinstance(object_id, str) and object_id.startswith(prefix):
                obj = getattr(self, name).get(object_id)
                if obj is not None:
                    return obj
        raise _StripeAnswer(
            404,
            {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such object: '{object_id}'",
                "param": "id",
            },
        )

    def _expand(self, obj, paths):
        """A copy of ``obj`` with the ids at ``paths`` (``a.b``) replaced by the
        objects, as Stripe's ``expand``."""
        result = json.loads(json.dumps(obj))
        for path in paths:
            node = result
            for name in path.split("."):
                if not isinstance(node, dict) or node.get(name) is None:
                    break
                if isinstance(node[name], str):
                    node[name] = json.loads(json.dumps(self._get(node[name])))
                node = node[name]
        return result

    def _charge(self, intent, status):
        charge = self.charges.get(intent.get("latest_charge"))
        if not charge:
            charge = self._new(
                "ch_",
                {
                    "object": "charge",
                    "amount": intent["amount"],
                    "currency": intent["currency"],
                    "payment_intent": intent["id"],
                    "payment_method": intent["payment_method"],
                    "description": intent.get("description"),
                },
            )
            intent["latest_charge"] = charge["id"]
        charge["status"] = status
        if status == "succeeded" and not charge.get("balance_transaction"):
            charge["balance_transaction"] = self._balance_transaction(charge)["id"]
        charge.setdefault("balance_transaction", None)
        intent["charges"] = {
            "object": "list",
            "data": [dict(charge)],
            "has_more": False,
        }
        return charge

    def _balance_transaction(self, charge):
        """The balance transaction of a charge that succeeded: its amount in
        the account's balance currency, Stripe's fee (with its details) and the
        net."""
        currency = self.balance_currency or charge["currency"]
        rate = self.exchange_rate if currency != charge["currency"] else None
        amount = round(charge["amount"] * rate) if rate else charge["amount"]
        fee = round(amount * self.fee_percent / 100) + self.fee_fixed if amount else 0
        return self._new(
            "txn_",
            {
                "object": "balance_transaction",
                "amount": amount,
                "currency": currency,
                "exchange_rate": rate,
                "fee": fee,
                "fee_details": [
                    {
                        "amount": fee,
                        "currency": currency,
                        "type": "stripe_fee",
                        "description": "Stripe processing fees",
                        "application": None,
                    }
                ]
                if fee
                else [],
                "net": amount - fee,
                "reporting_category": "charge",
                "source": charge["id"],
                "status": "pending",
                "type": "charge",
            },
        )

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    def _route(self, method, path, params, headers):
        """The JSON answer of an API call: ``(status, body)``."""
        routes = (
            ("POST", r"/v1/customers", self._post_customer),
            ("GET", r"/v1/customers/([^/]+)", self._get_object),
            ("POST", r"/v1/checkout/sessions", self._post_session),
            ("GET", r"/v1/checkout/sessions/([^/]+)", self._get_object),
            ("POST", r"/v1/checkout/sessions/([^/]+)/expire", self._post_expire),
            ("GET", r"/v1/setup_intents/([^/]+)", self._get_object),
            ("GET", r"/v1/payment_methods/([^/]+)", self._get_object),
            ("POST", r"/v1/payment_methods/([^/]+)/detach", self._post_detach),
            ("GET", r"/v1/mandates/([^/]+)", self._get_object),
            ("GET", r"/v1/charges/([^/]+)", self._get_object),
            ("GET", r"/v1/balance_transactions/([^/]+)", self._get_object),
            ("GET", r"/v1/disputes/([^/]+)", self._get_object),
            ("POST", r"/v1/payment_intents", self._post_payment_intent),
            ("GET", r"/v1/payment_intents/([^/]+)", self._get_object),
            ("POST", r"/v1/webhook_endpoints", self._post_webhook_endpoint),
        )
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(params, headers, *match.groups())
        raise _StripeAnswer(
            404,
            {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL ({method}: {path}).",
            },
        )

    @staticmethod
    def _expand_paths(params):
        expand = params.get("expand") or []
        return [expand] if isinstance(expand, str) else list(expand)

    def _get_object(self, params, headers, object_id):
        return 200, self._expand(self._get(object_id), self._expand_paths(params))

    def _post_customer(self, params, headers):
        values = {key: params.get(key) for key in ("name", "email", "phone")}
        customer = self._new(
            "cus_",
            {
                "object": "customer",
                **values,
                "address": params.get("address") or None,
                "description": params.get("description"),
                "metadata": params.get("metadata") or {},
                "preferred_locales": params.get("preferred_locales") or [],
            },
        )
        return 200, dict(customer)

    def _post_session(self, params, headers):
        if "payment_method_types" in params and headers.get(
            "Stripe-Version", ""
        ).startswith("2026"):
            raise _StripeAnswer(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "payment_method_types_no_longer_supported",
                    "param": "payment_method_types",
                    "message": "payment_method_types is no longer supported: use "
                    "allowed_payment_method_types.",
                },
            )
        for required in ("mode", "success_url"):
            if not params.get(required):
                raise _StripeAnswer(
                    400,
                    {
                        "type": "invalid_request_error",
                        "code": "parameter_missing",
                        "param": required,
                        "message": f"Missing required param: {required}.",
                    },
                )
        customer = params.get("customer")
        if customer and customer not in self.customers:
            self._get(customer)
        session = self._new(
            "cs_",
            {
                "object": "checkout.session",
                "status": "open",
                "mode": params["mode"],
                "customer": customer,
                "currency": params.get("currency"),
                "allowed_payment_method_types": params.get(
                    "allowed_payment_method_types"
                ),
                "success_url": params["success_url"],
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id"),
                "locale": params.get("locale"),
                "metadata": params.get("metadata") or {},
                "setup_intent_data": params.get("setup_intent_data") or {},
                "expires_at": int(params.get("expires_at") or time.time() + 86400),
                "setup_intent": None,
            },
        )
        session["url"] = f"{self.url}/checkout/{session['id']}"
        return 200, dict(session)

    def _post_expire(self, params, headers, session_id):
        self._get(session_id)
        return 200, self.expire_session(session_id)

    def _post_detach(self, params, headers, pm_id):
        self._get(pm_id)
        return 200, self.detach_payment_method(pm_id)

    def _post_webhook_endpoint(self, params, headers):
        endpoint = {
            "id": f"we_test_{next(self._ids):014d}",
            "object": "webhook_endpoint",
            "url": params.get("url"),
            "enabled_events": params.get("enabled_events") or [],
            "api_version": params.get("api_version"),
            "secret": f"whsec_test_{next(self._ids):014d}",
        }
        self.webhook_endpoints[endpoint["id"]] = endpoint
        return 200, dict(endpoint)

    def _post_payment_intent(self, params, headers):
        pm_id = params.get("payment_method")
        customer = params.get("customer")
        pm = self.payment_methods.get(pm_id)
        if pm_id and (not pm or (customer and pm["customer"] != customer)):
            raise _StripeAnswer(
                400,
                {
                    "type": "invalid_request_error",
                    "code": "payment_method_unexpected_state",
                    "param": "payment_method",
                    "message": "The provided PaymentMethod was detached from its "
                    "Customer. It may not be used again.",
                },
            )
        types = params.get("payment_method_types") or [pm["type"] if pm else "card"]
        intent = self._new(
            "pi_",
            {
                "object": "payment_intent",
                "amount": int(params.get("amount") or 0),
                "currency": params.get("currency"),
                "customer": customer,
                "description": params.get("description"),
                "payment_method": pm_id,
                "payment_method_types": types,
                "mandate": params.get("mandate"),
                "off_session": _is_true(params.get("off_session")),
                "capture_method": params.get("capture_method") or "automatic",
                "metadata": params.get("metadata") or {},
                "status": "requires_confirmation"
                if pm_id
                else "requires_payment_method",
                "last_payment_error": None,
                "latest_charge": None,
                "charges": {"object": "list", "data": [], "has_more": False},
                "client_secret": "pi_secret_do_not_log",
            },
        )
        expand = self._expand_paths(params)
        if not (_is_true(params.get("confirm")) and pm):
            return 200, self._expand(intent, expand)
        decline = self._declines.pop(0) if self._declines else None
        if decline:
            error = {
                "type": "card_error",
                "code": decline["code"],
                "message": decline["message"]
                or _DECLINE_MESSAGES.get(decline["decline_code"] or decline["code"])
                or "Your card was declined.",
                "payment_method": dict(pm),
            }
            if decline["decline_code"]:
                error["decline_code"] = decline["decline_code"]
            intent.update(status="requires_payment_method", last_payment_error=error)
            charge = self._charge(intent, "failed")
            raise _StripeAnswer(
                402,
                {
                    **error,
                    "charge": charge["id"],
                    "payment_intent": self._expand(intent, []),
                },
            )
        if pm["type"] == "sepa_debit":
            intent["status"] = "processing"
            self._charge(intent, "pending")
        else:
            intent["status"] = "succeeded"
            self._charge(intent, "succeeded")
        return 200, self._expand(intent, expand)

    # ------------------------------------------------------------------
    # HTTP
    # ------------------------------------------------------------------

    def _handle_api(self, method, path, params, headers):
        """``(status, body, drop)`` of an API call, idempotency and knobs
        applied."""
        with self._lock:
            self.requests.append(FakeStripeRequest(method, path, params, headers))
            failure = None
            for index, candidate in enumerate(self._failures):
                if candidate["path"] in (None, path) or (
                    re.fullmatch(candidate["path"], path)
                    and candidate.get("method") in (None, method)
                ):
                    failure = self._failures.pop(index)
                    break
            if failure and not failure["after"]:
                return self._failure_answer(failure)
            key = headers.get("Idempotency-Key") if method == "POST" else None
            stored = self._idempotent.get(key) if key else None
            if stored:
                if stored["path"] != path or stored["params"] != params:
                    status, body = (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be "
                                "used with the same parameters they were first used "
                                "with.",
                            }
                        },
                    )
                else:
                    status, body = stored["status"], stored["body"]
            else:
                try:
                    status, body = self._route(method, path, params, headers)
                except _StripeAnswer as answer:
                    status, body = answer.status, {"error": answer.error}
                if key:
                    self._idempotent[key] = {
                        "path": path,
                        "params": params,
                        "status": status,
                        "body": body,
                    }
            if failure:
                return self._failure_answer(failure)
            return status, body, False

    @staticmethod
    def _failure_answer(failure):
        if failure["mode"] == "drop":
            return None, None, True
        return (
            500,
            {
                "error": {
                    "type": "api_error",
                    "message": "An unknown error occurred",
                }
            },
            False,
        )

    def _hosted_page(self, path):
        """``(status, headers, html)`` of the hosted Checkout page."""
        self.page_views.append(path)
        match = re.fullmatch(r"/checkout/([^/]+)(/save)?", path)
        session = match and self.sessions.get(match.group(1))
        if not session:
            return 404, {}, "<html><body>Not found</body></html>"
        if match.group(2):
            self.complete_session(session["id"])
            location = session["success_url"].replace(
                "{CHECKOUT_SESSION_ID}", session["id"]
            )
            return 303, {"Location": location}, ""
        types = session.get("allowed_payment_method_types") or ["card"]
        what = "SEPA Direct Debit" if "sepa_debit" in types else "Card"
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width'>"
            "<title>Stripe Checkout (test)</title></head><body>"
            f"<h1 class='o_fake_stripe_title'>Save your {html.escape(what)}</h1>"
            f"<a class='o_fake_stripe_save' href='/checkout/{session['id']}/save'>"
            "Save</a> "
            f"<a class='o_fake_stripe_cancel' href='"
            f"{html.escape(session.get('cancel_url') or '/')}'>Cancel</a>"
            "</body></html>"
        )
        return 200, {}, page


class _Handler(BaseHTTPRequestHandler):
    fake = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # quiet: the test logs are the ones that matter

    def _read_params(self):
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length).decode()
            pairs += parse_qsl(body, keep_blank_values=True)
        return split.path, decode_form(pairs)

    def _dispatch(self, method):
        path, params = self._read_params()
        if not path.startswith("/v1/"):
            status, headers, page = self.fake._hosted_page(path)
            payload = page.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        headers = {name: value for name, value in self.headers.items()}
        status, body, drop = self.fake._handle_api(method, path, params, headers)
        if drop:
            # No answer at all: the client sees the connection closed.
            self.close_connection = True
            return
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", f"req_test_{next(self.fake._ids):014d}")
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802 - http.server's naming
        self._dispatch("POST")

    def do_DELETE(self):  # noqa: N802 - http.server's naming
        self._dispatch("DELETE")


class StripeFakeMixin:
    """Test class mixin: one ``FakeStripe`` per class in ``cls.stripe_fake``,
    emptied before each test, and every request to ``api.stripe.com`` (the
    SDK's and Odoo's ``payment_stripe``'s) sent to it instead. Put it before
    Odoo's test class in the bases."""

    @classmethod
    def setUpClass(cls):
        cls.stripe_fake = FakeStripe().start()
        super().setUpClass()
        cls.addClassCleanup(cls.stripe_fake.stop)

    def setUp(self):
        super().setUp()
        self.stripe_fake.reset()

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        url = urlsplit(r.url)
        if url.hostname == "api.stripe.com":
            fake = urlsplit(cls.stripe_fake.url)
            r.url = urlunsplit(("http", fake.netloc, url.path, url.query, ""))
        return super()._request_handler(s, r, **kw)
