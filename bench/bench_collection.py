# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmarks of account_payment_collection, side by side with core Odoo.

Run by ``make bench`` (tools/bench.sh) as::

    python3 bench/bench_collection.py --addons-path=... -d apc_bench --log-level=warn

Everything happens in one transaction that is rolled back at the end: the
database stays as installed and can be reused. E-mails are only queued as
``mail.mail`` records (Odoo sends them after the commit, which never happens).

Settings (environment variables): BENCH_INVOICES (500), BENCH_SMALL (50),
BENCH_SEND_N (100), BENCH_JOB_COUNT (20, as the standard
"Send invoices automatically" job), BENCH_PARTNERS (10000), BENCH_SEARCH_RUNS (20),
BENCH_OUT (bench/results/latest.md).
"""

import datetime
import os
import platform
import statistics
import subprocess
import sys
import time

import odoo
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import config

N_INVOICES = int(os.environ.get("BENCH_INVOICES", "500"))
N_SMALL = int(os.environ.get("BENCH_SMALL", "50"))
# 500 real PDFs take about 10 min per side with Debian's wkhtmltopdf (one
# wkhtmltopdf call of more than 1 s per PDF): 100 are sent by default.
SEND_N = min(int(os.environ.get("BENCH_SEND_N", "100")), N_INVOICES)
JOB_COUNT = int(os.environ.get("BENCH_JOB_COUNT", "20"))
N_PARTNERS = int(os.environ.get("BENCH_PARTNERS", "10000"))
SEARCH_RUNS = int(os.environ.get("BENCH_SEARCH_RUNS", "20"))
N_WARMUP = 4
OUT = os.environ.get(
    "BENCH_OUT",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.md"),
)


def wkhtmltopdf_version():
    try:
        return subprocess.run(
            ["wkhtmltopdf", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "wkhtmltopdf not found"


def log(msg):
    sys.stderr.write(f"  - {msg}\n")
    sys.stderr.flush()


class Meter:
    """Wall time and SQL queries of a block, pending writes included."""

    def __init__(self, env):
        self.env = env
        self.seconds = 0.0
        self.queries = 0

    def __enter__(self):
        self.env.flush_all()
        self.env.invalidate_all()
        self._q0 = self.env.cr.sql_log_count
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.env.flush_all()
        self.seconds += time.perf_counter() - self._t0
        self.queries += self.env.cr.sql_log_count - self._q0
        return False


class Bench:
    def __init__(self, env):
        self.root = env  # superuser, like the cron's user
        admin = env.ref("base.user_admin")
        # The accountant who posts, sends and searches: access rules apply.
        self.env = env(user=admin.id, su=False, context=admin.context_get())
        self.company = self.env.company
        self.after_post_queries = []
        self.rows = []
        self.notes = []

    # ------------------------------------------------------------------ data

    def setup(self):
        env = self.env
        root = self.root
        # wkhtmltopdf fetches the report's CSS over HTTP; no server runs here
        # (and none of another database must answer): same conditions both sides.
        root["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:1")
        # Debian's wkhtmltopdf is built against an unpatched Qt: it renders one
        # document per call, so Odoo must render the PDFs one by one.
        self.wkhtmltopdf = wkhtmltopdf_version()
        self.unpatched_qt = "patched qt" not in self.wkhtmltopdf
        if self.unpatched_qt:
            root["ir.config_parameter"].set_param("account.pdf_generation_batch", "0")
        self.company.sudo().email = "billing@example.com"
        Line = env["account.payment.method.line"]
        self.lines = {
            t: Line.search(
                [
                    ("offline_payment_type", "=", t),
                    ("company_id", "=", self.company.id),
                ],
                limit=1,
            )
            for t in ("cheque", "transfer", "cash", "money_order")
        }
        assert all(self.lines.values()), "offline payment method lines are missing"
        self.terms = [
            env.ref("account.account_payment_term_immediate"),
            env.ref("account.account_payment_term_15days"),
            env.ref("account.account_payment_term_30days"),
        ]
        self.product = env["product.product"].create(
            {"name": "Bench service", "type": "service", "list_price": 120.0}
        )

        # 10,000 customers: 40% cheque, 20% transfer, 10% cash, 10% money order
        # (offline), 10% cheque method without collection mode, 10% nothing.
        pattern = [
            ("offline", "cheque"),
            ("offline", "cheque"),
            ("offline", "cheque"),
            ("offline", "cheque"),
            ("offline", "transfer"),
            ("offline", "transfer"),
            ("offline", "cash"),
            ("offline", "money_order"),
            (False, "cheque"),
            (False, False),
        ]
        t0 = time.perf_counter()
        Partner = env["res.partner"].with_context(
            tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
        )
        vals_list = []
        for i in range(N_PARTNERS):
            mode, ptype = pattern[i % len(pattern)]
            vals = {
                "name": f"Bench Customer {i:05d}",
                "email": f"customer{i:05d}@example.com",
                "is_company": True,
                "customer_rank": 1,
                "property_payment_term_id": self.terms[i % 3].id,
            }
            if ptype:
                vals["property_inbound_payment_method_line_id"] = self.lines[ptype].id
            if mode:
                vals["collection_mode"] = mode
            vals_list.append(vals)
        partner_ids = []
        for start in range(0, len(vals_list), 1000):
            partner_ids += Partner.create(vals_list[start : start + 1000]).ids
        env.flush_all()
        self.offline_ids = [
            pid
            for i, pid in enumerate(partner_ids)
            if pattern[i % len(pattern)][0] == "offline"
        ]
        log(f"{N_PARTNERS} customers created in {time.perf_counter() - t0:.1f} s")
        self._next_partner = 0

    def make_invoices(self, count):
        """Fresh draft invoices, each for another offline customer."""
        partners = self.offline_ids[self._next_partner : self._next_partner + count]
        assert len(partners) == count, "not enough offline customers"
        self._next_partner += count
        today = datetime.date.today()
        Move = self.env["account.move"].with_context(
            tracking_disable=True, mail_create_nolog=True
        )
        ids = []
        vals_list = [
            {
                "move_type": "out_invoice",
                "partner_id": pid,
                "invoice_date": today,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.product.id, "quantity": 1 + k % 5}
                    )
                ],
            }
            for k, pid in enumerate(partners)
        ]
        for start in range(0, len(vals_list), 100):
            ids += Move.create(vals_list[start : start + 100]).ids
        self.env.flush_all()
        return ids

    def set_auto_send(self, value):
        self.company.sudo().collection_auto_send_offline = value
        self.analyze()

    def analyze(self):
        """Refresh PostgreSQL's statistics, as autovacuum would: it cannot see
        the rows of this uncommitted transaction, and with stale statistics some
        of Odoo's queries (e.g. account.move's _compute_payment_state) get plans
        that take minutes."""
        self.env.flush_all()
        self.env.cr.execute("ANALYZE")

    def instrument(self):
        """Count the queries of the add-on's own post hook (pending writes
        included), in both modes."""
        Move = type(self.env["account.move"])
        original = Move._collection_after_post
        bench = self

        def _collection_after_post(moves):
            moves.env.flush_all()
            q0 = moves.env.cr.sql_log_count
            res = original(moves)
            moves.env.flush_all()
            bench.after_post_queries.append(moves.env.cr.sql_log_count - q0)
            return res

        Move._collection_after_post = _collection_after_post

    # ------------------------------------------------------------- measures

    def post(self, ids):
        self.after_post_queries = []
        moves = self.env["account.move"].browse(ids)
        with Meter(self.env) as m:
            moves.action_post()
        states = set(self.env["account.move"].browse(ids).mapped("state"))
        assert states == {"posted"}, states
        m.after_post = sum(self.after_post_queries)
        return m

    def queue_core(self, ids):
        with Meter(self.env) as m:
            self.env["account.move.send.batch.wizard"].with_context(
                active_model="account.move", active_ids=ids
            ).create({}).action_send_and_print()
        return m

    def run_cron(self):
        Move = self.root["account.move"]
        m = Meter(self.root)
        m.calls = 0
        while Move.search_count([("sending_data", "!=", False)]):
            assert m.calls < 1000, "the sending job does not progress"
            with m:
                Move._cron_account_move_send(job_count=JOB_COUNT)
            m.calls += 1
        return m

    def sent_report(self, ids):
        moves = self.root["account.move"].browse(ids)
        with_pdf = len(moves.filtered("invoice_pdf_report_id"))
        mails = self.root["mail.mail"].search(
            [("model", "=", "account.move"), ("res_id", "in", ids)]
        )
        assert not mails.filtered(lambda m: m.state == "sent"), "an e-mail left!"
        return with_pdf, len(mails)

    def bench_searches(self, domains):
        """Median time and queries of each search, the searches interleaved so
        that the load of the machine weighs the same on each."""
        Partner = self.env["res.partner"]
        counts = [len(Partner.search(domain)) for domain in domains]  # warm-up
        times = [[] for _d in domains]
        queries = [[] for _d in domains]
        for _i in range(SEARCH_RUNS):
            for k, domain in enumerate(domains):
                with Meter(self.env) as m:
                    Partner.search(domain).ids  # noqa: B018
                times[k].append(m.seconds)
                queries[k].append(m.queries)
        return [
            (statistics.median(times[k]), statistics.median(queries[k]), counts[k])
            for k in range(len(domains))
        ]

    @staticmethod
    def mean(first, second):
        """Two runs of the same measure (ABBA order against the other side)."""
        m = Meter(None)
        m.seconds = (first.seconds + second.seconds) / 2
        m.queries = round((first.queries + second.queries) / 2)
        m.after_post = max(first.after_post, second.after_post)
        return m

    def clear_queue(self, ids):
        self.root["account.move"].browse(ids).write({"sending_data": False})

    # ------------------------------------------------------------------ run

    def run(self):
        self.setup()
        self.instrument()
        n = N_INVOICES
        sizes = {
            "warm_addon": N_WARMUP,
            "warm_core": N_WARMUP,
            "addon": n,
            "core": n,
            "core_2": n,
            "addon_2": n,
            "addon_small": N_SMALL,
            "core_small": N_SMALL,
            "core_small_2": N_SMALL,
            "addon_small_2": N_SMALL,
        }
        batches = {name: self.make_invoices(size) for name, size in sizes.items()}
        log(f"{sum(sizes.values())} draft invoices created")

        # Warm-up of both paths (templates, report, wkhtmltopdf), not measured.
        self.set_auto_send(True)
        self.post(batches["warm_addon"])
        self.run_cron()
        self.set_auto_send(False)
        self.post(batches["warm_core"])
        self.queue_core(batches["warm_core"])
        self.run_cron()
        log("warm-up done")

        # 1. The add-on: posting queues the sending, the job sends.
        self.set_auto_send(True)
        a_post = self.post(batches["addon"])
        queued = self.root["account.move"].search_count(
            [("id", "in", batches["addon"]), ("sending_data", "!=", False)]
        )
        assert queued == n, f"the add-on queued {queued} invoices out of {n}"
        self.clear_queue(batches["addon"][SEND_N:])
        log(f"add-on: {n} invoices posted and queued in {a_post.seconds:.1f} s")
        self.analyze()
        a_cron = self.run_cron()
        log(f"add-on: {SEND_N} invoices sent in {a_cron.seconds:.1f} s")

        # 2. Core: posting, batch "Send" wizard, the same job.
        self.set_auto_send(False)
        c_post = self.post(batches["core"])
        assert not self.root["account.move"].search_count(
            [("sending_data", "!=", False)]
        ), "the setting is off but invoices were queued"
        self.analyze()
        c_queue = self.queue_core(batches["core"])
        self.clear_queue(batches["core"][SEND_N:])
        log(f"core: {n} invoices posted in {c_post.seconds:.1f} s")
        self.analyze()
        c_cron = self.run_cron()
        log(f"core: {SEND_N} invoices sent in {c_cron.seconds:.1f} s")

        sent = {
            "add-on": self.sent_report(batches["addon"][:SEND_N]),
            "core": self.sent_report(batches["core"][:SEND_N]),
        }

        # 3. Posting only, second runs in reverse order (ABBA), and the smaller
        # batches (ABBA too).
        c_post_2 = self.post(batches["core_2"])
        self.set_auto_send(True)
        a_post_2 = self.post(batches["addon_2"])
        self.clear_queue(batches["addon_2"])
        a_small = self.post(batches["addon_small"])
        self.clear_queue(batches["addon_small"])
        self.set_auto_send(False)
        c_small = self.post(batches["core_small"])
        c_small_2 = self.post(batches["core_small_2"])
        self.set_auto_send(True)
        a_small_2 = self.post(batches["addon_small_2"])
        self.clear_queue(batches["addon_small_2"])
        log("posting runs done")

        # 4. Searching customers by how they pay.
        self.analyze()
        cheque = self.lines["cheque"]
        # The partner list filter "Pays by Cheque".
        pays_by_cheque = [
            ("collection_mode", "=", "offline"),
            (
                "property_inbound_payment_method_line_id.offline_payment_type",
                "=",
                "cheque",
            ),
        ]
        s_addon, s_line, s_term = self.bench_searches(
            [
                pays_by_cheque,
                [("property_inbound_payment_method_line_id", "=", cheque.id)],
                [("property_payment_term_id", "=", self.terms[2].id)],
            ]
        )  # fmt: skip
        log("searches done")

        return self.report(
            n,
            self.mean(a_post, a_post_2),
            self.mean(c_post, c_post_2),
            c_queue, a_cron, c_cron,
            self.mean(a_small, a_small_2),
            self.mean(c_small, c_small_2),
            s_addon, s_line, s_term, sent,
        )  # fmt: skip

    # --------------------------------------------------------------- output

    def report(self, n, a_post, c_post, c_queue, a_cron, c_cron, a_small, c_small,
               s_addon, s_line, s_term, sent):  # fmt: skip
        def ratio(a, b):
            return f"{a / b:.2f}x" if b else "n/a"

        def sec(s):
            return f"{s:.2f} s"

        def ms(s):
            return f"{s * 1000:.1f} ms"

        rows = []

        def row(label, a_t, c_t, a_q, c_q, fmt=sec):
            rows.append(
                f"| {label} | {fmt(a_t)} | {fmt(c_t)} | {ratio(a_t, c_t)} "
                f"| {a_q:,} | {c_q:,} |"
            )

        row(
            f"Post {n} invoices of offline customers (add-on: also queues them)",
            a_post.seconds, c_post.seconds, a_post.queries, c_post.queries,
        )  # fmt: skip
        row(
            f"Post + queue {n} for sending (core: + batch Send wizard)",
            a_post.seconds, c_post.seconds + c_queue.seconds,
            a_post.queries, c_post.queries + c_queue.queries,
        )  # fmt: skip
        row(
            f"Send {SEND_N} queued invoices: PDF + e-mail "
            f"(job, {a_cron.calls} / {c_cron.calls} runs of {JOB_COUNT})",
            a_cron.seconds, c_cron.seconds, a_cron.queries, c_cron.queries,
        )  # fmt: skip
        row(
            "Total, posting to e-mails queued"
            + ("" if SEND_N == n else f" (post {n}, send {SEND_N})"),
            a_post.seconds + a_cron.seconds,
            c_post.seconds + c_queue.seconds + c_cron.seconds,
            a_post.queries + a_cron.queries,
            c_post.queries + c_queue.queries + c_cron.queries,
        )
        row(
            f"Post {N_SMALL} invoices (posting only)",
            a_small.seconds, c_small.seconds, a_small.queries, c_small.queries,
        )  # fmt: skip
        row(
            f"Search {N_PARTNERS:,} customers, filter Pays by Cheque vs core "
            f"`property_inbound_payment_method_line_id = Cheque` "
            f"(median of {SEARCH_RUNS}; {s_addon[2]:,} / {s_line[2]:,} found)",
            s_addon[0], s_line[0], int(s_addon[1]), int(s_line[1]), fmt=ms,
        )  # fmt: skip
        row(
            f"Search {N_PARTNERS:,} customers, filter Pays by Cheque vs core "
            f"`property_payment_term_id = 30 Days` "
            f"(median of {SEARCH_RUNS}; {s_addon[2]:,} / {s_term[2]:,} found)",
            s_addon[0], s_term[0], int(s_addon[1]), int(s_term[1]), fmt=ms,
        )  # fmt: skip

        scale = []
        for size, a, c in ((N_SMALL, a_small, c_small), (n, a_post, c_post)):
            scale.append(
                f"| {size} | {a.queries / size:.2f} | {c.queries / size:.2f} "
                f"| {a.queries - c.queries:+,} | {a.after_post} / {c.after_post} "
                f"| {a.seconds * 1000 / size:.1f} / {c.seconds * 1000 / size:.1f} |"
            )
        growth = (a_post.after_post - a_small.after_post) / (n - N_SMALL)
        if growth < 0.05:
            verdict = (
                f"`_collection_after_post` runs {a_small.after_post} queries for "
                f"{N_SMALL} invoices and {a_post.after_post} for {n} "
                f"({growth:.3f} more per invoice): no per-invoice query, the small "
                f"growth is Odoo's ORM writing 100 rows per INSERT/UPDATE "
                f"(chatter messages, `sending_data`)."
            )
        else:
            verdict = (
                f"WARNING: `_collection_after_post` runs {a_small.after_post} queries "
                f"for {N_SMALL} invoices but {a_post.after_post} for {n} "
                f"({growth:.2f} more per invoice): it queries per invoice."
            )

        pg = self.root.cr.connection.server_version
        wk = self.wkhtmltopdf
        machine = (
            f"Machine: {os.cpu_count()} CPUs (nproc), Python "
            f"{platform.python_version()}, PostgreSQL {pg // 10000}.{pg % 10000}, "
            f"Odoo {odoo.release.version}, {wk}; {datetime.date.today()}."
        )
        lines = [
            "| scenario | add-on | core | ratio | queries add-on | queries core |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Posting cost per invoice (posting only): the add-on's extra queries "
            "must not grow with the number of invoices.",
            "",
            "| invoices posted | queries/invoice add-on | queries/invoice core "
            "| extra queries (add-on - core) | `_collection_after_post` queries "
            "(add-on / core) | ms/invoice (add-on / core) |",
            "|---:|---:|---:|---:|---:|---:|",
            *scale,
            "",
            verdict,
            "",
            "Add-on: company setting `collection_auto_send_offline` on, "
            "`action_post()` queues the invoices, then "
            f"`_cron_account_move_send(job_count={JOB_COUNT})` until none is left. "
            "Core: the setting off (add-on installed), "
            f"`action_post()`, the batch Send wizard, the same job. Posting times "
            f"are the mean of two runs per side in ABBA order. E-mails sent: "
            f"add-on {sent['add-on'][1]}/{SEND_N} (PDFs {sent['add-on'][0]}), core "
            f"{sent['core'][1]}/{SEND_N} (PDFs {sent['core'][0]}); they stay queued "
            f"in `mail.mail`, the transaction is rolled back. PDFs by wkhtmltopdf "
            f"without HTTP server (no CSS fetched). One transaction, user admin "
            f"(posting, searching) and superuser (job).",
        ]
        if SEND_N < n:
            lines.append(
                f"Sending measured on {SEND_N} of the {n} posted and queued "
                f"invoices (BENCH_SEND_N): 500 PDFs take about 10 min per side here."
            )
        if self.unpatched_qt:
            lines.append(
                "This wkhtmltopdf is built against an unpatched Qt: it renders one "
                "document per call, so the PDFs are rendered one by one "
                "(`account.pdf_generation_batch` = 0), about 1.2 s each."
            )
        lines += ["", machine]
        return "\n".join(lines)


def main():
    config.parse_config(sys.argv[1:])
    dbname = config["db_name"]
    if isinstance(dbname, list):
        dbname = dbname[0]
    assert dbname, "usage: bench_collection.py --addons-path=... -d DB"
    import threading

    threading.current_thread().dbname = dbname
    registry = Registry(dbname)
    t0 = time.perf_counter()
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            table = Bench(env).run()
        finally:
            cr.rollback()
    # Forget the PDFs written to the filestore by the rolled back transaction.
    with registry.cursor() as cr:
        odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})[
            "ir.attachment"
        ]._gc_file_store()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(table + "\n")
    sys.stdout.write(table + "\n")
    sys.stdout.flush()
    log(f"benchmark ran in {time.perf_counter() - t0:.0f} s; table written to {OUT}")


if __name__ == "__main__":
    main()
