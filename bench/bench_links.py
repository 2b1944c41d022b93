# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of the payment links of account_payment_collection.

Run by ``make bench`` (tools/bench.sh), as::

    python3 bench/bench_links.py --addons-path=... -d apc_bench --log-level=warn

In this process, on the add-on's database, through Odoo's own WSGI
application (``odoo.http.root``, called by werkzeug's test client exactly as
the HTTP server calls it: routing, session, dispatch, one cursor per request),
as a public visitor opening the link from an e-mail:

- Odoo's own payment link for one invoice (what ``payment.link.wizard`` on
  an ``account.move`` opens: the invoice's portal page with the payment form,
  then ``/invoice/transaction/<id>``);
- the add-on's links: a deposit on a confirmed sales order, a wallet top-up,
  and the settlement of 1 and of 20 invoices of one customer (``/collection/
  pay/<key>``, then ``/collection/pay/<key>/transaction``).

Each link is opened (GET: the page with Odoo's payment form), then paid with
Odoo's ``payment_demo`` provider as its form does (the transaction route,
``/payment/demo/simulate_payment``, then ``/payment/status/poll``, which
post-processes: the payment is posted and reconciled). Every request's SQL
queries are counted by Odoo (``query_count`` of the request's thread, the
figure of its access log line) and timed; the table gives the medians over
BENCH_LINK_RUNS links of each kind (default 15), after 2 warm-up links.

The fixtures (customers, invoices, orders, links) are committed, since each
request has its own cursor, under customers named "APC bench links" and are
left in the database (a few hundred records per run). The table is appended
to BENCH_OUT (bench/results/latest.md).
"""

import json
import os
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

import odoo
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = int(os.environ.get("BENCH_LINK_RUNS", "15"))
WARMUP = 2
SETTLEMENT_SIZE = 20
PORT = int(os.environ.get("BENCH_LINK_PORT", "8971"))
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "results", "latest.md"))


def log(msg):
    sys.stderr.write(f"  - {msg}\n")
    sys.stderr.flush()


class Browser:
    """A public visitor's browser on Odoo's WSGI application: cookies kept,
    queries counted per request."""

    def __init__(self, db):
        from werkzeug.test import Client

        self.db = db
        self.client = Client(odoo.http.root)

    def _call(self, method, path, **kwargs):
        thread = threading.current_thread()
        thread.query_count = 0
        start = time.perf_counter()
        response = self.client.open(path, method=method, **kwargs)
        body = response.get_data(as_text=True)
        elapsed = time.perf_counter() - start
        queries = getattr(thread, "query_count", 0)
        return response.status_code, body, elapsed, queries

    def get(self, url):
        parts = urlsplit(url)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        return self._call("GET", path)

    def json(self, path, params):
        payload = json.dumps(
            {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
        )
        status, body, elapsed, queries = self._call(
            "POST", path, data=payload, content_type="application/json"
        )
        answer = json.loads(body)
        if "error" in answer:
            raise RuntimeError(f"{path}: {answer['error']['data']['message']}")
        return answer.get("result"), elapsed, queries


def serve_reports(env):
    """Serve Odoo's WSGI application on 127.0.0.1 for wkhtmltopdf, which
    fetches the assets of the PDFs some flows render (the order's PDF attached
    to the payment confirmation of an order): without it each PDF waits for a
    refused connection. Returns the server (shut down at the end)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", PORT, odoo.http.root, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env["ir.config_parameter"].set_param("report.url", f"http://127.0.0.1:{PORT}")
    env.cr.commit()
    return server


def make_fixtures(env, kind, count):
    """``count`` links of ``kind`` (committed), each as (url, route, token,
    amount)."""
    company = env.company
    provider = env.ref("payment.payment_provider_demo")
    if provider.state == "disabled":
        provider.write({"state": "test", "is_published": True})
    provider.company_id = company
    env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", True)
    product = env["product.product"].search([("name", "=", "APC bench links")], limit=1)
    if not product:
        product = env["product.product"].create(
            {
                "name": "APC bench links",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
            }
        )
    links = []
    for index in range(count):
        partner = env["res.partner"].create(
            {
                "name": f"APC bench links {kind} {index}",
                "is_company": True,
                "email": f"bench-links-{kind}-{index}@example.com",
            }
        )
        if kind in ("core_invoice", "settlement_1", f"settlement_{SETTLEMENT_SIZE}"):
            size = 1 if kind != f"settlement_{SETTLEMENT_SIZE}" else SETTLEMENT_SIZE
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "price_unit": 100.0 + i,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for i in range(size)
                ]
            )
            invoices.action_post()
            if kind == "core_invoice":
                # What Odoo's payment link of an invoice opens: its portal page
                # with the payment form (its link adds the amount and a token
                # made in a request; the invoice's access token opens the same).
                links.append(
                    {
                        "url": f"{invoices.get_portal_url()}&payment=true",
                        "route": f"/invoice/transaction/{invoices.id}",
                        "token": invoices._portal_ensure_token(),
                        "amount": invoices.amount_residual,
                        "core": True,
                    }
                )
                continue
            wizard = (
                env["payment.link.wizard"]
                .with_context(
                    active_model="res.partner",
                    active_id=partner.id,
                    default_collection_link_purpose="settlement",
                    default_collection_invoice_ids=invoices.ids,
                )
                .create({})
            )
        elif kind == "deposit":
            order = env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "price_unit": 300.0,
                                "tax_id": [],
                            }
                        )
                    ],
                }
            )
            order.action_confirm()
            wizard = (
                env["payment.link.wizard"]
                .with_context(active_model="sale.order", active_id=order.id)
                .create({"amount": 90.0})
            )
        else:  # wallet
            wizard = (
                env["payment.link.wizard"]
                .with_context(
                    active_model="res.partner",
                    active_id=partner.id,
                    default_collection_link_purpose="wallet",
                )
                .create({"amount": 50.0})
            )
        wizard.collection_channel = "email"
        link = wizard._collection_store_link("email", partner.email)
        links.append(
            {
                "url": link.url,
                "route": f"/collection/pay/{link.key}/transaction",
                "token": link.access_token,
                "amount": link.amount,
                "core": False,
            }
        )
    env.cr.commit()
    return links, provider


def pay(browser, link, provider, method):
    status, body, page_time, page_queries = browser.get(link["url"])
    if status != 200 or "o_payment_form" not in body:
        raise RuntimeError(f"page {link['url']}: {status}")
    params = {
        "provider_id": provider.id,
        "payment_method_id": method.id,
        "token_id": None,
        "amount": link["amount"],
        "flow": "direct",
        "tokenization_requested": False,
        "landing_route": "/",
        "is_validation": False,
        "access_token": link["token"],
    }
    result, tx_time, tx_queries = browser.json(link["route"], params)
    _result, sim_time, sim_queries = browser.json(
        "/payment/demo/simulate_payment",
        {
            "reference": result["reference"],
            "payment_details": "4242",
            "simulated_state": "done",
        },
    )
    poll, poll_time, poll_queries = browser.json(
        "/payment/status/poll", {"csrf_token": None}
    )
    if not poll.get("state") == "done":
        raise RuntimeError(f"post-processing of {result['reference']}: {poll}")
    return {
        "page_time": page_time,
        "page_queries": page_queries,
        "pay_time": tx_time + sim_time + poll_time,
        "pay_queries": tx_queries + sim_queries + poll_queries,
    }


def main():
    config.parse_config(sys.argv[1:])
    db = config["db_name"]
    if isinstance(db, list):
        db = db[0]
    config["db_name"] = db
    registry = Registry(db)
    kinds = [
        ("core_invoice", "Odoo's payment link, 1 invoice"),
        ("deposit", "Deposit on an order"),
        ("wallet", "Wallet top-up"),
        ("settlement_1", "Settlement, 1 invoice"),
        (f"settlement_{SETTLEMENT_SIZE}", f"Settlement, {SETTLEMENT_SIZE} invoices"),
    ]
    only = os.environ.get("BENCH_LINK_KINDS")
    if only:
        kinds = [k for k in kinds if k[0] in only.split(",") or k[0] == "core_invoice"]
    results = {}
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        method = env.ref("payment_demo.payment_method_demo")
        previous_report_url = env["ir.config_parameter"].get_param("report.url")
        server = serve_reports(env)
        fixtures = {}
        for kind, _label in kinds:
            log(f"fixtures: {RUNS + WARMUP} links of kind {kind}")
            fixtures[kind], provider = make_fixtures(env, kind, RUNS + WARMUP)
        provider_id, method_id = provider.id, method.id
    for kind, _label in kinds:
        samples = []
        for index, link in enumerate(fixtures[kind]):
            browser = Browser(db)  # a new visitor: a new session
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                provider = env["payment.provider"].browse(provider_id)
                method = env["payment.method"].browse(method_id)
                sample = pay(browser, link, provider, method)
            if index >= WARMUP:
                samples.append(sample)
        results[kind] = {
            name: statistics.median(s[name] for s in samples) for name in samples[0]
        }
        log(f"{kind}: {results[kind]}")
    server.shutdown()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("report.url", previous_report_url or False)

    core = results["core_invoice"]
    lines = [
        "",
        f"### Payment links ({RUNS} links of each kind, medians; "
        f"{time.strftime('%Y-%m-%d')})",
        "",
        "Opened as a public visitor (GET: the page with Odoo's payment form), then "
        "paid with payment_demo (transaction route, simulated payment, status poll "
        "which posts and reconciles the payment), through Odoo's WSGI application.",
        "",
        "| Link | Page: queries | Page: time | vs Odoo | Pay: queries | Pay: time "
        "| vs Odoo |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, label in kinds:
        r = results[kind]
        page_extra = r["page_queries"] - core["page_queries"]
        pay_extra = r["pay_queries"] - core["pay_queries"]
        lines.append(
            f"| {label} | {r['page_queries']:.0f} ({page_extra:+.0f}) "
            f"| {r['page_time'] * 1000:.1f} ms "
            f"| {r['page_time'] / core['page_time']:.2f}x "
            f"| {r['pay_queries']:.0f} ({pay_extra:+.0f}) "
            f"| {r['pay_time'] * 1000:.1f} ms "
            f"| {r['pay_time'] / core['pay_time']:.2f}x |"
        )
    one = results.get("settlement_1")
    many = results.get(f"settlement_{SETTLEMENT_SIZE}")
    if one and many:
        many_time = many["page_time"] + many["pay_time"]
        lines += [
            "",
            f"Settlement of {SETTLEMENT_SIZE} invoices vs 1 (page + payment): "
            f"{many_time / (one['page_time'] + one['pay_time']):.2f}x the time; vs "
            f"Odoo's link for one invoice: "
            f"{many_time / (core['page_time'] + core['pay_time']):.2f}x.",
            "",
        ]
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "a", encoding="utf-8") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
