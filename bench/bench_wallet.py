# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of the customers' wallets of account_payment_collection.

Run by ``make bench`` (tools/bench.sh) after bench_debits.py, as::

    python3 bench/bench_wallet.py --addons-path=... -d apc_bench --log-level=warn

In one transaction rolled back at the end, on the add-on's database: a
customer with BENCH_WALLET_MOVES (10,000) posted wallet entries (three top-ups
for two spendings: each top-up credits the wallet account against the bank
journal's outstanding receipts, each spending debits it against the
customer's receivable, as "Pay with Wallet" does), among
BENCH_WALLET_NOISE (5,000) wallet entries of 20 other customers on the same
account (per customer, one top-up and one spending created and posted
through the ORM, the others copied from them in SQL with their own names
and dates). Then, side by side,
BENCH_WALLET_RUNS (50) reads of the value alone (forgotten before each read,
pending writes flushed; the company, its currency and the partner stay
cached, as on a form being opened) of:

- the customer's wallet balance, ``res.partner.collection_wallet_balance``;
- core's ``res.partner.credit`` of the same customer (``_credit_debit_get``:
  the unreconciled receivable and payable items), the closest thing Odoo
  computes from the ledger on the customer form;
- the first page (20 items) of the customer's wallet history (``/my/wallet``).

Query counts and median / p95 times are printed, with the EXPLAIN (ANALYZE)
plan of the balance's query and the line showing its index
(``account_move_line_collection_wallet_idx``). The table is appended to
BENCH_OUT (bench/results/latest.md).
"""

import datetime
import math
import os
import platform
import statistics
import sys
import time

import odoo
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

HERE = os.path.dirname(os.path.abspath(__file__))
N_MOVES = int(os.environ.get("BENCH_WALLET_MOVES", "10000"))
N_NOISE = int(os.environ.get("BENCH_WALLET_NOISE", "5000"))
N_OTHERS = 20
RUNS = int(os.environ.get("BENCH_WALLET_RUNS", "50"))
BATCH = 500
INDEX = "account_move_line_collection_wallet_idx"
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "results", "latest.md"))


def log(msg):
    sys.stderr.write(f"  - {msg}\n")
    sys.stderr.flush()


def percentile(values, share):
    values = sorted(values)
    return values[max(0, math.ceil(share * len(values)) - 1)] if values else 0


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


class WalletBench:
    def __init__(self, env):
        self.env = env
        self.company = env.company
        self.account = self.company._collection_get_wallet_account()
        assert self.account, "the company has no wallet account"
        self.bank = env["account.journal"].search(
            [("company_id", "=", self.company.id), ("type", "=", "bank")], limit=1
        )
        self.misc = self.company._collection_get_wallet_journal()
        self.clones = {}  # template move id: [(number, date)]
        self.expected = {}  # partner id: expected wallet balance
        self.outstanding = self.bank.inbound_payment_method_line_ids[
            :1
        ].payment_account_id or env["account.payment"]._get_outstanding_account(
            "inbound"
        )

    def analyze(self):
        """Statistics of this transaction's rows (autovacuum cannot see them),
        of this database's own tables only (as bench_debits.py)."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cr.fetchall()]
        cr.execute(SQL("ANALYZE %s", SQL(", ").join(SQL.identifier(t) for t in tables)))

    def make_moves(self, partner, count):
        """``count`` posted wallet entries of ``partner``: three top-ups for
        two spendings, dated over the last years. One top-up and one spending
        are made and posted through the ORM (the add-on's checks included); the
        others are their copies in SQL, each with its own name and date (the
        ORM takes minutes for 10,000 entries on this machine)."""
        templates = [self.make_move(partner, top_up) for top_up in (True, False)]
        self.env.flush_all()
        today = datetime.date.today()
        done = 2
        self.expected[partner.id] = 10.0 - 7.5
        for i in range(2, count):
            top_up = i % 5 not in (2, 4)
            self.expected[partner.id] += 10.0 if top_up else -7.5
            template = templates[0 if top_up else 1]
            self.clones.setdefault(template.id, []).append(
                (i, today - datetime.timedelta(days=(count - i) // 10))
            )
            done += 1
        return done

    def make_move(self, partner, top_up):
        amount = 10.0 if top_up else 7.5
        wallet, other = (-amount, amount) if top_up else (amount, -amount)
        counterpart = (
            self.outstanding if top_up else partner.property_account_receivable_id
        )
        move = (
            self.env["account.move"]
            .with_context(tracking_disable=True)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": (self.bank if top_up else self.misc).id,
                    "ref": "Wallet top-up" if top_up else "Wallet payment",
                    "line_ids": [
                        Command.create(
                            {
                                "name": "Wallet",
                                "account_id": self.account.id,
                                "partner_id": partner.id,
                                "balance": wallet,
                            }
                        ),
                        Command.create(
                            {
                                "name": "Counterpart",
                                "account_id": counterpart.id,
                                "partner_id": partner.id,
                                "balance": other,
                            }
                        ),
                    ],
                }
            )
        )
        move._post(soft=False)
        return move

    def clone_all(self):
        """Insert the copies of the template entries planned by `make_moves`,
        lines included, in a few queries."""
        self.env.flush_all()
        cr = self.env.cr

        def columns(table):
            cr.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = %s AND column_name != 'id'",
                [table],
            )
            return [row[0] for row in cr.fetchall()]

        move_columns = columns("account_move")
        line_columns = columns("account_move_line")
        replaced_moves = {
            "name": SQL("t.name || '-B' || c.n"),
            "date": SQL("c.d"),
        }
        replaced_lines = {
            "move_id": SQL("m.id"),
            "date": SQL("m.date"),
            "move_name": SQL("m.name"),
        }
        for template_id, clones in self.clones.items():
            for start in range(0, len(clones), 5000):
                chunk = clones[start : start + 5000]
                cr.execute(
                    SQL(
                        """
                        INSERT INTO account_move (%(columns)s)
                        SELECT %(values)s
                          FROM account_move t,
                               unnest(%(numbers)s::int[], %(dates)s::date[])
                                   AS c(n, d)
                         WHERE t.id = %(template)s
                     RETURNING id
                        """,
                        columns=SQL(", ").join(map(SQL.identifier, move_columns)),
                        values=SQL(", ").join(
                            replaced_moves.get(col, SQL("t.%s", SQL.identifier(col)))
                            for col in move_columns
                        ),
                        numbers=[n for n, _d in chunk],
                        dates=[d for _n, d in chunk],
                        template=template_id,
                    )
                )
                move_ids = [row[0] for row in cr.fetchall()]
                cr.execute(
                    SQL(
                        """
                        INSERT INTO account_move_line (%(columns)s)
                        SELECT %(values)s
                          FROM account_move_line l, account_move m
                         WHERE l.move_id = %(template)s
                           AND m.id = ANY(%(move_ids)s)
                        """,
                        columns=SQL(", ").join(map(SQL.identifier, line_columns)),
                        values=SQL(", ").join(
                            replaced_lines.get(col, SQL("l.%s", SQL.identifier(col)))
                            for col in line_columns
                        ),
                        template=template_id,
                        move_ids=move_ids,
                    )
                )
        self.env.invalidate_all()

    def measure(self, read, forget):
        """Median and p95 time, and queries, of ``read()`` after ``forget()``
        (the measured value only is forgotten: the company, the currency and the
        partner stay cached, as on a form being opened)."""
        times, queries = [], []
        for _run in range(RUNS):
            self.env.flush_all()
            forget()
            q0 = self.env.cr.sql_log_count
            t0 = time.perf_counter()
            read()
            times.append(time.perf_counter() - t0)
            queries.append(self.env.cr.sql_log_count - q0)
        return {
            "median": statistics.median(times),
            "p95": percentile(times, 0.95),
            "queries": statistics.median(queries),
        }

    def explain(self, partner):
        query = partner._collection_get_wallet_balances_query(
            self.company, (partner.id,)
        )
        self.env.cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS) %s", query))
        return [row[0] for row in self.env.cr.fetchall()]

    def run(self):
        t0 = time.perf_counter()
        Partner = self.env["res.partner"]
        customer = Partner.create({"name": "Bench Wallet Customer", "is_company": True})
        others = Partner.create(
            [
                {"name": f"Bench Wallet Other {i}", "is_company": True}
                for i in range(N_OTHERS)
            ]
        )
        log(f"creating {N_MOVES:,} wallet entries of the customer")
        self.make_moves(customer, N_MOVES)
        log(f"creating {N_NOISE:,} wallet entries of {N_OTHERS} other customers")
        for other in others:
            self.make_moves(other, N_NOISE // N_OTHERS)
        log("copying the entries in SQL")
        self.clone_all()
        setup_seconds = time.perf_counter() - t0
        self.analyze()
        expected = self.expected[customer.id]
        balance = customer.with_company(self.company).collection_wallet_balance
        assert abs(balance - expected) < 0.005, (balance, expected)
        log(f"balance {balance:.2f}; measuring {RUNS} reads of each")
        # Alternate the two sides' warm-ups, then measure.
        for _warm in range(3):
            customer.invalidate_recordset()
            customer.collection_wallet_balance  # noqa: B018
            customer.invalidate_recordset()
            customer.credit  # noqa: B018
        wallet = self.measure(
            lambda: customer.collection_wallet_balance,
            lambda: customer.invalidate_recordset(["collection_wallet_balance"]),
        )
        credit = self.measure(
            lambda: customer.credit,
            lambda: customer.invalidate_recordset(["credit", "debit"]),
        )
        history = self.measure(
            lambda: customer._collection_get_wallet_history(self.company, limit=20),
            lambda: self.env["account.move.line"].invalidate_model(),
        )
        plan = self.explain(customer)
        lines = self.env["account.move.line"].search_count(
            [("account_id", "=", self.account.id)]
        )
        return {
            "balance": balance,
            "wallet": wallet,
            "credit": credit,
            "history": history,
            "plan": plan,
            "account_lines": lines,
            "setup_seconds": setup_seconds,
        }


def report(result, machine):
    index_lines = [line for line in result["plan"] if INDEX in line]
    plan = "\n".join(f"    {line}" for line in result["plan"])
    w, c, h = result["wallet"], result["credit"], result["history"]
    lines = [
        "",
        "## Customer wallets (bench/bench_wallet.py)",
        "",
        f"One customer with {N_MOVES:,} posted wallet entries (three top-ups for "
        f"two spendings; balance {result['balance']:,.2f}), among "
        f"{result['account_lines']:,} journal items on the wallet account "
        f"({N_NOISE:,} entries of {N_OTHERS} other customers). Median (p95) of "
        f"{RUNS} reads of the value alone (forgotten before each read; the "
        "company, currency and partner stay cached, as on an open form); SQL "
        "queries per read. The customer's entries: one top-up and one spending "
        "posted through the ORM, the others copied from them in SQL.",
        "",
        "| read | median | p95 | queries |",
        "|---|---:|---:|---:|",
        f"| `collection_wallet_balance` (add-on) | {ms(w['median'])} "
        f"| {ms(w['p95'])} | {w['queries']:g} |",
        f"| `credit` (core, same customer) | {ms(c['median'])} | {ms(c['p95'])} "
        f"| {c['queries']:g} |",
        f"| wallet history, first page of 20 (`/my/wallet`) | {ms(h['median'])} "
        f"| {ms(h['p95'])} | {h['queries']:g} |",
        "",
        f"Index used by the balance's query: "
        f"`{index_lines[0].strip() if index_lines else 'NOT USED'}`",
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of the balance's query:",
        "",
        plan,
        "",
        machine,
    ]
    return "\n".join(lines)


def main():
    config.parse_config(sys.argv[1:])
    dbname = config["db_name"]
    if isinstance(dbname, list):
        dbname = dbname[0]
    assert dbname, "usage: bench_wallet.py --addons-path=... -d DB"
    import threading

    threading.current_thread().dbname = dbname
    registry = Registry(dbname)
    t0 = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            result = WalletBench(env).run()
        finally:
            cr.rollback()
        pg = cr.connection.server_version
    machine = (
        f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
        f"PostgreSQL {pg // 10000}.{pg % 10000}, Odoo {odoo.release.version}; "
        f"{datetime.date.today()}; data set up in {result['setup_seconds']:.0f} s, "
        f"bench_wallet.py ran in {time.perf_counter() - t0:.0f} s."
    )
    table = report(result, machine)
    os.makedirs(os.path.dirname(os.path.abspath(OUT)), exist_ok=True)
    with open(OUT, "a", encoding="utf-8") as f:
        f.write(table + "\n")
    sys.stdout.write(table + "\n")
    sys.stdout.flush()
    log(f"bench_wallet.py ran in {time.perf_counter() - t0:.0f} s; appended to {OUT}")


if __name__ == "__main__":
    main()
