# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of the integration of online payments with their fees.

Run by ``make bench`` (tools/bench.sh) after bench_debits.py, as::

    python3 bench/bench_integration.py --addons-path=... -d apc_bench --log-level=warn

In this process, on the add-on's database, in one transaction rolled back at the
end, for each size N (BENCH_INTEGRATION_SIZES, 250,1000):

* Odoo's own post-processing (``payment.transaction._post_process``, what its
  job ``payment.cron_post_process_payment_tx`` runs) of N done online payments of
  N posted invoices, with Odoo's demo provider (no fee): each becomes a posted
  ``account.payment`` reconciled with its invoice;
* the add-on's integration (``action_collection_integrate``, the Integrate button
  of Invoicing > Customers > Online Payments) of N other such payments, each with
  its provider's exact fee already known (as a provider reports it with the
  payment): each becomes a posted payment whose counterpart is the gross
  (reconciled with the invoice), whose write-off line is the fee on the
  commission account and whose outstanding line is the net. The company
  integrates after review; the payments were post-processed (left to integrate)
  before the measure.

Both sides start from the same fixtures made before the measures (invoices and
transactions of the same amounts), each in a savepoint rolled back after its
measure; the SQL queries are counted on the cursor, pending writes and commit
hooks included. The table is appended to BENCH_OUT (bench/results/latest.md).
"""

import datetime
import os
import platform
import sys
import threading
import time

import odoo
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = sorted(
    int(s) for s in os.environ.get("BENCH_INTEGRATION_SIZES", "250,1000").split(",")
)
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "results", "latest.md"))
FEE = 2.15  # per payment, e.g. Stripe's 1.5 % + 0.25 of 126.67


def log(msg):
    sys.stderr.write(f"  - {msg}\n")
    sys.stderr.flush()


class Meter:
    """Wall time, CPU time of this process (what the machine's other load does
    not change) and SQL queries of a block, pending writes included."""

    def __init__(self, env):
        self.cr = env.cr
        self.seconds = 0.0
        self.cpu = 0.0
        self.queries = 0

    def __enter__(self):
        self.cr.flush()
        self._q0 = self.cr.sql_log_count
        self._t0 = time.perf_counter()
        self._c0 = time.process_time()
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        self.cr.flush()
        self.cr.precommit.run()  # what the commit would run (tracking)
        self.cr.flush()
        self.seconds += time.perf_counter() - self._t0
        self.cpu += time.process_time() - self._c0
        self.queries += self.cr.sql_log_count - self._q0
        return False


def make_fixtures(env, count, tag):
    """``count`` posted invoices (of customers with 10 invoices each) each
    paid by a done online transaction of Odoo's demo provider, not
    post-processed yet."""
    company = env.company
    provider = env.ref("payment.payment_provider_demo")
    if provider.state == "disabled":
        provider.state = "test"
    if not provider.journal_id:
        provider.journal_id = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
    provider._collection_set_default_fee_account()
    partners = env["res.partner"].create(
        [
            {"name": f"Bench Online Payer {tag}-{index}", "email": "bench@example.com"}
            for index in range(0, count, 10)
        ]
    )
    product = env["product.product"].create(
        {"name": f"Bench service {tag}", "type": "service", "taxes_id": []}
    )
    invoices = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partners[index // 10].id,
                "invoice_date": datetime.date.today(),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 1,
                            "price_unit": 100.0 + index % 50,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
            for index in range(count)
        ]
    )
    invoices.action_post()
    Transaction = env["payment.transaction"]
    method = env.ref("payment.payment_method_card")
    txs = Transaction.create(
        [
            {
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "reference": f"BENCH-{tag}-{invoice.id}",
                "amount": invoice.amount_residual,
                "currency_id": invoice.currency_id.id,
                "partner_id": invoice.partner_id.id,
                "operation": "online_redirect",
                "invoice_ids": [Command.set(invoice.ids)],
            }
            for invoice in invoices
        ]
    )
    txs._set_done()
    env.cr.flush()
    return invoices, txs


def check_booked(env, invoices, txs, fee):
    env.invalidate_all()
    assert len(txs.payment_id) == len(txs), "every payment booked once"
    assert all(inv.payment_state in ("in_payment", "paid") for inv in invoices)
    assert set(txs.mapped("collection_integration_state")) == {"integrated"}
    if fee:
        assert all(
            abs(payment.amount - (tx.amount - fee)) < 0.005
            for tx, payment in zip(txs, txs.payment_id, strict=True)
        ), "the payments are the net"


def bench_size(env, count):
    company = env.company
    previous_mode = company.collection_online_integration
    result = {"n": count}
    # Odoo's own post-processing of payments without fee.
    with env.cr.savepoint(flush=False) as savepoint:
        company.collection_online_integration = "auto"
        invoices, txs = make_fixtures(env, count, f"core{count}")
        with Meter(env) as meter:
            txs._post_process()
        check_booked(env, invoices, txs, 0.0)
        result["core"] = meter
        savepoint.rollback()
    env.invalidate_all()
    # The add-on's integration with fees.
    with env.cr.savepoint(flush=False) as savepoint:
        company.collection_online_integration = "manual"
        invoices, txs = make_fixtures(env, count, f"apc{count}")
        txs._post_process()  # left to integrate
        for tx in txs:
            tx._collection_set_fee(FEE)
        env.cr.flush()
        env.invalidate_all()
        with Meter(env) as meter:
            txs.action_collection_integrate()
        check_booked(env, invoices, txs, FEE)
        result["addon"] = meter
        savepoint.rollback()
    env.invalidate_all()
    company.collection_online_integration = previous_mode
    log(
        f"{count}: post-processing {result['core'].seconds:.2f} s "
        f"(CPU {result['core'].cpu:.2f} s, {result['core'].queries} queries), "
        f"integration with fees {result['addon'].seconds:.2f} s "
        f"(CPU {result['addon'].cpu:.2f} s, {result['addon'].queries} queries)"
    )
    return result


def report(results, machine):
    lines = [
        "",
        "### Online payments: integration with fees vs Odoo's post-processing",
        "",
        "| payments | Odoo's post-processing, no fee: wall (CPU) | queries "
        "| add-on's integration with fees: wall (CPU) | queries "
        "| ratio wall | ratio CPU | ratio queries |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        core, addon, n = r["core"], r["addon"], r["n"]
        lines.append(
            f"| {n} | {core.seconds:.2f} s ({core.cpu:.2f} s), "
            f"{core.seconds / n * 1000:.1f} ms/payment "
            f"| {core.queries} ({core.queries / n:.1f}/payment) "
            f"| {addon.seconds:.2f} s ({addon.cpu:.2f} s), "
            f"{addon.seconds / n * 1000:.1f} ms/payment "
            f"| {addon.queries} ({addon.queries / n:.1f}/payment) "
            f"| {addon.seconds / core.seconds:.2f}x "
            f"| {addon.cpu / core.cpu:.2f}x "
            f"| {addon.queries / core.queries:.2f}x |"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        factor = last["n"] / first["n"]
        lines.append("")
        lines.append(
            f"Linearity, {first['n']} to {last['n']} payments (x{factor:g}): "
            f"integration CPU time x{last['addon'].cpu / first['addon'].cpu:.2f}, "
            f"queries x{last['addon'].queries / first['addon'].queries:.2f}; "
            f"Odoo's post-processing CPU time "
            f"x{last['core'].cpu / first['core'].cpu:.2f}, queries "
            f"x{last['core'].queries / first['core'].queries:.2f}."
        )
    lines += ["", machine, ""]
    return "\n".join(lines)


def main():
    config.parse_config(sys.argv[1:])
    dbname = config["db_name"]
    if isinstance(dbname, list):
        dbname = dbname[0]
    assert dbname, "usage: bench_integration.py --addons-path=... -d DB"
    os.makedirs(os.path.dirname(os.path.abspath(OUT)), exist_ok=True)
    t0 = time.perf_counter()
    threading.current_thread().dbname = dbname
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            # A first small run warms the caches (views, ORM) up.
            bench_size(env, 20)
            results = [bench_size(env, count) for count in SIZES]
        finally:
            cr.rollback()
        pg = cr.connection.server_version
    machine = (
        f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
        f"PostgreSQL {pg // 10000}.{pg % 10000}, Odoo {odoo.release.version}; "
        f"{datetime.date.today()}; bench_integration.py ran in "
        f"{time.perf_counter() - t0:.0f} s (rolled back)."
    )
    table = report(results, machine)
    with open(OUT, "a", encoding="utf-8") as f:
        f.write(table + "\n")
    sys.stdout.write(table + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
