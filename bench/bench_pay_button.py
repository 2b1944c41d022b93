# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of the Pay online button of invoice e-mails and PDFs.

Run by ``make bench`` (tools/bench.sh), as::

    python3 bench/bench_pay_button.py --addons-path=... -d apc_bench --log-level=warn

In this process, on the add-on's database, in one transaction rolled back at
the end: BENCH_PAY_N (20) posted invoices of a customer paying by bank
transfer, rendered with the Pay button (the transfer method allows online
payment) and without it (it does not), alternately, each render measured:

- the invoice PDF (``account.account_invoices`` through wkhtmltopdf, the
  report's assets fetched from no server, as in the tests): wall time;
- the invoice e-mail: Odoo's standard invoice template rendered for the
  customer and the recipients' groups of its notification (where the button's
  link and title are decided), wall time and SQL queries.

The table (medians, ratio with/without) is appended to BENCH_OUT
(bench/results/latest.md).
"""

import os
import statistics
import sys
import threading
import time

import odoo
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
N = int(os.environ.get("BENCH_PAY_N", "20"))
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "results", "latest.md"))


def log(msg):
    sys.stderr.write(f"  - {msg}\n")
    sys.stderr.flush()


def measure(function):
    thread = threading.current_thread()
    thread.query_count = 0
    thread.query_time = 0
    start = time.perf_counter()
    function()
    return time.perf_counter() - start, thread.query_count


def main():
    config.parse_config(sys.argv[1:])
    db = config["db_name"]
    if isinstance(db, list):
        db = db[0]
    registry = Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        env["ir.config_parameter"].set_param(
            "account_payment.enable_portal_payment", True
        )
        env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:1")
        provider = env.ref("payment.payment_provider_demo")
        provider.write(
            {"state": "test", "is_published": True, "company_id": company.id}
        )
        transfer = env["account.payment.method.line"].search(
            [
                ("offline_payment_type", "=", "transfer"),
                ("company_id", "=", company.id),
            ],
            limit=1,
        )
        partner = env["res.partner"].create(
            {"name": "APC bench pay button", "email": "bench-pay@example.com"}
        )
        partner.write(
            {
                "collection_mode": "offline",
                "property_inbound_payment_method_line_id": transfer.id,
            }
        )
        invoices = env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "price_unit": 100.0 + i, "tax_ids": []}
                        )
                    ],
                }
                for i in range(N)
            ]
        )
        invoices.action_post()
        template = env.ref("account.email_template_edi_invoice")
        Report = env["ir.actions.report"]
        samples = {
            True: {"pdf": [], "mail": [], "mail_q": []},
            False: {"pdf": [], "mail": [], "mail_q": []},
        }
        for index, invoice in enumerate(invoices):
            for with_button in (index % 2 == 0, index % 2 != 0):
                transfer.collection_allow_online_payment = with_button
                env.flush_all()
                env.invalidate_all()
                assert invoice._collection_show_pay_button() == with_button
                elapsed, _queries = measure(
                    lambda invoice=invoice: Report._render_qweb_pdf(
                        "account.account_invoices", invoice.ids
                    )
                )
                samples[with_button]["pdf"].append(elapsed)
                message = env["mail.message"].new({"partner_ids": partner.ids})

                def render_mail(invoice=invoice, message=message):
                    template._render_field("body_html", invoice.ids, compute_lang=True)
                    invoice._notify_get_recipients_groups(message, "Invoice")

                elapsed, queries = measure(render_mail)
                samples[with_button]["mail"].append(elapsed)
                samples[with_button]["mail_q"].append(queries)
        cr.rollback()
    med = {
        key: {name: statistics.median(values) for name, values in sample.items()}
        for key, sample in samples.items()
    }
    w, wo = med[True], med[False]
    lines = [
        "",
        f"### Pay online button ({N} invoices, each rendered with and without; "
        f"{time.strftime('%Y-%m-%d')})",
        "",
        "| Render | With the button | Without | Ratio |",
        "|---|---:|---:|---:|",
        f"| Invoice PDF (wkhtmltopdf) | {w['pdf'] * 1000:.0f} ms "
        f"| {wo['pdf'] * 1000:.0f} ms | {w['pdf'] / wo['pdf']:.3f}x |",
        f"| Invoice e-mail (template + recipients' button) "
        f"| {w['mail'] * 1000:.1f} ms, {w['mail_q']:.0f} queries "
        f"| {wo['mail'] * 1000:.1f} ms, {wo['mail_q']:.0f} queries "
        f"| {w['mail'] / wo['mail']:.2f}x |",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "a", encoding="utf-8") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
