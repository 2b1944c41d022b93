# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmarks of the payment plans and reminders of account_payment_collection.

Run by ``make bench`` (tools/bench.sh) after bench_collection.py, as::

    python3 bench/bench_plans.py --addons-path=... -d apc_bench --log-level=warn

1. The portal invoice page, add-on vs core: two Odoo servers (threaded, no
   cron) started here on 127.0.0.1, one on ``apc_bench`` (the add-on) and one
   on ``apc_bench_core`` (the same dependencies, without the add-on; created
   by tools/bench.sh), real HTTP requests, queries counted by the servers
   themselves (their access log line ends with ``<queries> <query time>
   <other time>``). The servers must see the data: a customer with a portal
   user and two invoices are committed in both databases, once, and reused
   (the portal user gets a new random password each run); the add-on's
   setting "Customers may propose payment plans" is switched on for the
   measure and restored afterwards.
2-4. In this process, on ``apc_bench``, in one transaction rolled back at the
   end, like bench_collection.py: proposing plans, the reminder job vs core's
   send wizard, searching 100,000 invoices by blocking reason.

The table is appended to BENCH_OUT (bench/results/latest.md).

Settings (environment variables): BENCH_PORTAL (1; 0 skips measure 1),
BENCH_CORE_DB (apc_bench_core), BENCH_PORTAL_PORTS (8869,8870),
BENCH_PORTAL_RUNS (20), BENCH_PLAN_RUNS (5), BENCH_REMIND_INVOICES (1000,2000:
the sizes measured, 5 invoices per customer), BENCH_REMIND_JOB_COUNT (20),
BENCH_SEARCH_MOVES (100000), BENCH_SEARCH_RUNS (20), BENCH_OUT
(bench/results/latest.md; the servers' logs go next to it).
"""

import datetime
import io
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time

import requests

import odoo
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import SQL, config
from odoo.tools.pdf import PdfFileWriter

CORE_DB = os.environ.get("BENCH_CORE_DB", "apc_bench_core")
PORTS = [int(p) for p in os.environ.get("BENCH_PORTAL_PORTS", "8869,8870").split(",")]
PORTAL_RUNS = int(os.environ.get("BENCH_PORTAL_RUNS", "20"))
PORTAL_WARMUP = 5
PLAN_RUNS = int(os.environ.get("BENCH_PLAN_RUNS", "5"))
PLAN_SIZES = (1, 5, 20)
# The issue asks for 10,000 invoices of 2,000 customers. Creating and posting
# them through the ORM, then e-mailing them one by one with core, takes far
# longer than make bench may (see the note printed with the results): two
# smaller sizes are measured and the scaling between them is shown.
REMIND_SIZES = [
    int(s) for s in os.environ.get("BENCH_REMIND_INVOICES", "1000,2000").split(",")
]
REMIND_PER_CUSTOMER = 5
REMIND_TARGET = 10000
REMIND_JOB_COUNT = int(os.environ.get("BENCH_REMIND_JOB_COUNT", "20"))
SEARCH_MOVES = int(os.environ.get("BENCH_SEARCH_MOVES", "100000"))
SEARCH_RUNS = int(os.environ.get("BENCH_SEARCH_RUNS", "20"))
OUT = os.environ.get(
    "BENCH_OUT",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.md"),
)
RESULTS_DIR = os.path.dirname(os.path.abspath(OUT))

FIXTURE_REF = "APC-BENCH-PORTAL"
FIXTURE_LOGIN = "apc-bench-portal@example.com"
RESTORE_PARAM = "account_payment_collection.bench_plans_restore"
ACCESS_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<query_time>[0-9.]+) (?P<other_time>[0-9.]+)"
)


def log(msg):
    sys.stderr.write(f"  - {msg}\n")
    sys.stderr.flush()


def median(values):
    return statistics.median(values) if values else 0


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def sec(seconds):
    return f"{seconds:.2f} s"


def tiny_pdf():
    """A valid one-page blank PDF (about 500 bytes): stands for the invoice PDF
    in core's sending (see Bench.stub_pdf_rendering)."""
    writer = PdfFileWriter()
    writer.addBlankPage(595, 842)
    stream = io.BytesIO()
    writer.write(stream)
    return stream.getvalue()


class Meter:
    """Wall time and SQL queries of a block, pending writes included, and with
    ``precommit`` what Odoo runs at commit time (the tracking messages of
    tracked fields), which a rolled back transaction would otherwise skip."""

    def __init__(self, env, precommit=True):
        self.env = env
        self.precommit = precommit
        self.seconds = 0.0
        self.queries = 0
        self.commit_queries = 0

    def __enter__(self):
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        self._q0 = self.env.cr.sql_log_count
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        self.env.flush_all()
        q1 = self.env.cr.sql_log_count
        if self.precommit:
            self.env.cr.precommit.run()
            self.env.flush_all()
        self.seconds += time.perf_counter() - self._t0
        self.queries += self.env.cr.sql_log_count - self._q0
        self.commit_queries += self.env.cr.sql_log_count - q1
        return False


def rollback_savepoint(env, savepoint):
    """Undo what a measure did (ORM cache, pending hooks and rows)."""
    env.cr.postcommit.clear()
    savepoint.close(rollback=True)
    env.invalidate_all()


# ---------------------------------------------------------------------------
# 1. Portal invoice page, through HTTP, add-on vs core
# ---------------------------------------------------------------------------


def portal_fixture(dbname, with_addon):
    """Commit (once) a customer, their portal user and two posted unpaid
    invoices due in five years (never reminded, never overdue), the second one
    in a proposed payment plan with the add-on; give the portal user a new
    random password and switch on the plan proposals. Returns what the HTTP
    client needs and what to restore."""
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        partner = env["res.partner"].search([("ref", "=", FIXTURE_REF)], limit=1)
        if not partner:
            partner = env["res.partner"].create(
                {
                    "name": "Bench Portal Customer",
                    "ref": FIXTURE_REF,
                    "email": FIXTURE_LOGIN,
                    "is_company": True,
                    "company_id": company.id,
                }
            )
        user = (
            env["res.users"]
            .with_context(active_test=False)
            .search([("login", "=", FIXTURE_LOGIN)])
        )
        if not user:
            user = (
                env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "name": partner.name,
                        "login": FIXTURE_LOGIN,
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "company_ids": [Command.set(company.ids)],
                        "groups_id": [Command.set(env.ref("base.group_portal").ids)],
                    }
                )
            )
        password = secrets.token_urlsafe(18)
        user.write({"password": password, "active": True})
        Move = env["account.move"].with_company(company)
        invoices = Move.search(
            [
                ("partner_id", "=", partner.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
            ],
            order="id",
        )
        product = env["product.product"].search(
            [("default_code", "=", FIXTURE_REF)], limit=1
        ) or env["product.product"].create(
            {
                "name": "Bench portal service",
                "default_code": FIXTURE_REF,
                "type": "service",
                "list_price": 480.0,
            }
        )
        today = datetime.date.today()
        while len(invoices) < 2:
            invoice = Move.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": today,
                    "invoice_date_due": today + datetime.timedelta(days=5 * 365),
                    "invoice_line_ids": [Command.create({"product_id": product.id})],
                }
            )
            invoice.action_post()
            invoices |= invoice
        invoice_a, invoice_c = invoices[0], invoices[1]
        invoice_a._portal_ensure_token()
        restore = {}
        if with_addon:
            # The value before the measure, kept in the database until it is
            # restored, in case a run stopped half-way.
            Param = env["ir.config_parameter"]
            restore = json.loads(
                Param.get_param(RESTORE_PARAM)
                or json.dumps(
                    {
                        "collection_allow_plan_proposal": (
                            company.collection_allow_plan_proposal
                        )
                    }
                )
            )
            Param.set_param(RESTORE_PARAM, json.dumps(restore))
            company.collection_allow_plan_proposal = True
            if not invoice_c.collection_plan_id:
                plan = (
                    env["collection.plan"]
                    .with_user(user)
                    ._create_proposal(
                        partner,
                        invoice_c,
                        {
                            "plan_kind": "deferred",
                            "first_date": today + datetime.timedelta(days=30),
                            "reason": "Benchmark fixture",
                        },
                    )
                )
                # Nothing to send from a benchmark database.
                env["mail.mail"].search(
                    [("model", "=", "collection.plan"), ("res_id", "=", plan.id)]
                ).unlink()
            assert not invoice_a.collection_block_reason, "fixture invoice A blocked"
            assert invoice_c.collection_block_reason == "plan_proposed"
        assert {invoice_a.payment_state, invoice_c.payment_state} == {"not_paid"}
        cr.commit()
        data = {
            "login": FIXTURE_LOGIN,
            "password": password,
            "invoice_a": invoice_a.id,
            "name_a": invoice_a.name,
            "token_a": invoice_a.access_token,
            "invoice_c": invoice_c.id,
            "name_c": invoice_c.name,
            "plan_c": invoice_c.collection_plan_id.id if with_addon else False,
            "restore": restore,
        }
    Registry.delete(dbname)
    return data


def portal_restore(dbname, restore):
    if not restore:
        return
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env.ref("base.main_company").write(restore)
        env["ir.config_parameter"].set_param(RESTORE_PARAM, False)
        cr.commit()


def new_session():
    """An HTTP client that talks to 127.0.0.1 directly, whatever the proxies
    set in the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


class Server:
    """An Odoo server on one database, threaded, without cron, on loopback."""

    def __init__(self, dbname, port):
        self.dbname = dbname
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.logfile = os.path.join(RESULTS_DIR, f"server_{dbname}.log")
        self.proc = None

    def start(self):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", self.port))
            except OSError as error:
                raise RuntimeError(
                    f"port {self.port} is busy (BENCH_PORTAL_PORTS): {error}"
                ) from error
        if os.path.exists(self.logfile):
            os.remove(self.logfile)
        cmd = [
            sys.executable,
            "-m",
            "odoo",
            f"--addons-path={config['addons_path']}",
            f"--database={self.dbname}",
            f"--db-filter=^{self.dbname}$",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            "--workers=0",
            "--max-cron-threads=0",
            "--log-level=warn",
            "--log-handler=werkzeug:INFO",
            f"--logfile={self.logfile}",
        ]
        self.proc = subprocess.Popen(  # noqa: S603
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )

    def wait_ready(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the server of {self.dbname} stopped, see {self.logfile}"
                )
            try:
                if new_session().get(f"{self.url}/web/health", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the server of {self.dbname} did not start in {timeout} s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _log_size(self):
        try:
            return os.path.getsize(self.logfile)
        except OSError:
            return 0

    def get(self, session, path):
        """GET ``path``: (status, body, client seconds, server queries)."""
        offset = self._log_size()
        t0 = time.perf_counter()
        response = session.get(self.url + path, allow_redirects=False, timeout=60)
        seconds = time.perf_counter() - t0
        for _attempt in range(50):
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                lines = f.read().splitlines()
            hits = [
                m
                for m in map(ACCESS_LINE.search, lines)
                if m and m["method"] == "GET" and m["path"] == path
            ]
            if hits:
                return (
                    response.status_code,
                    response.text,
                    seconds,
                    int(hits[-1]["queries"]),
                )
            time.sleep(0.02)
        raise RuntimeError(f"no access log line for {path} in {self.logfile}")

    def login(self, login, password):
        session = new_session()
        response = session.post(
            f"{self.url}/web/session/authenticate",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"db": self.dbname, "login": login, "password": password},
            },
            timeout=60,
        )
        result = response.json()
        assert result.get("result", {}).get("uid"), f"login failed: {result}"
        return session


def bench_portal():
    """Median server-side queries and client time of the portal invoice page,
    add-on vs core, requests interleaved."""
    t0 = time.perf_counter()
    dbname = config["db_name"]
    dbname = dbname[0] if isinstance(dbname, list) else dbname
    addon_data = portal_fixture(dbname, with_addon=True)
    try:
        core_data = portal_fixture(CORE_DB, with_addon=False)
        log(f"portal fixtures ready in {time.perf_counter() - t0:.0f} s")
        servers = {"addon": Server(dbname, PORTS[0]), "core": Server(CORE_DB, PORTS[1])}
        try:
            for server in servers.values():
                server.start()
            for server in servers.values():
                server.wait_ready()
            log("servers of both databases started")
            return measure_portal(servers, {"addon": addon_data, "core": core_data})
        finally:
            for server in servers.values():
                server.stop()
    finally:
        portal_restore(dbname, addon_data["restore"])


def portal_variants(data, side):
    """(key, label, session kind, path, what the page must contain)."""
    d = data[side]
    plan_marker = {
        "addon": f"/my/invoices/payment_plan?invoice_ids={d['invoice_a']}",
        "core": d["name_a"],
    }[side]
    plan_c_marker = {
        "addon": f"/my/payment_plans/{d['plan_c']}",
        "core": d["name_c"],
    }[side]
    return [
        (
            "user",
            "logged-in customer, unpaid invoice (add-on: offers a payment plan)",
            "user",
            f"/my/invoices/{d['invoice_a']}",
            plan_marker,
        ),
        (
            "token",
            "visitor with the invoice's access link (`?access_token=`), same invoice",
            "anonymous",
            f"/my/invoices/{d['invoice_a']}?access_token={d['token_a']}",
            plan_marker,
        ),
        (
            "plan",
            "logged-in customer, invoice in a proposed plan "
            "(core: the same unpaid invoice)",
            "user",
            f"/my/invoices/{d['invoice_c']}",
            plan_c_marker,
        ),
    ]


def measure_portal(servers, data):
    sessions = {
        side: {
            "user": server.login(data[side]["login"], data[side]["password"]),
            "anonymous": new_session(),
        }
        for side, server in servers.items()
    }
    variants = {side: portal_variants(data, side) for side in servers}
    samples = {
        (side, key): {"seconds": [], "queries": []}
        for side in servers
        for key, *_rest in variants[side]
    }
    for run in range(PORTAL_WARMUP + PORTAL_RUNS):
        sides = ["addon", "core"] if run % 2 else ["core", "addon"]
        for index in range(len(variants["addon"])):
            for side in sides:
                key, _label, kind, path, marker = variants[side][index]
                status, body, seconds, queries = servers[side].get(
                    sessions[side][kind], path
                )
                assert status == 200, f"{side} {path}: HTTP {status}"
                assert marker in body, f"{side} {path}: {marker!r} not on the page"
                if run >= PORTAL_WARMUP:
                    samples[side, key]["seconds"].append(seconds)
                    samples[side, key]["queries"].append(queries)
    log(f"portal pages: {PORTAL_RUNS} measured requests per page and side")
    results = []
    for key, label, *_rest in variants["addon"]:
        a, c = samples["addon", key], samples["core", key]
        results.append(
            {
                "label": label,
                "a_s": median(a["seconds"]),
                "c_s": median(c["seconds"]),
                "a_q": median(a["queries"]),
                "c_q": median(c["queries"]),
                "a_q_range": (min(a["queries"]), max(a["queries"])),
                "c_q_range": (min(c["queries"]), max(c["queries"])),
            }
        )
    return results


# ---------------------------------------------------------------------------
# 2-4. In one rolled back transaction
# ---------------------------------------------------------------------------


class Bench:
    def __init__(self, env):
        self.root = env  # superuser, like the cron's user
        admin = env.ref("base.user_admin")
        self.env = env(user=admin.id, su=False, context=admin.context_get())
        self.company = self.env.company
        self.today = datetime.date.today()
        self._seq = 0

    def analyze(self):
        """Statistics of the rows of this uncommitted transaction (autovacuum
        cannot see them), as bench_collection.py does."""
        self.env.flush_all()
        self.env.cr.execute("ANALYZE")

    def setup(self):
        self.company.sudo().write(
            {
                "email": "billing@example.com",
                "collection_allow_plan_proposal": True,
                "collection_reminders_enabled": True,
            }
        )
        self.product = self.env["product.product"].create(
            {"name": "Bench service", "type": "service", "list_price": 120.0}
        )
        self.immediate = self.env.ref("account.account_payment_term_immediate")

    def make_customers(self, count, prefix):
        Partner = self.env["res.partner"].with_context(
            tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
        )
        ids = []
        vals_list = [
            {
                "name": f"Bench {prefix} {i:05d}",
                "email": f"{prefix.lower()}{i:05d}@example.com",
                "is_company": True,
                "customer_rank": 1,
            }
            for i in range(count)
        ]
        for start in range(0, count, 1000):
            ids += Partner.create(vals_list[start : start + 1000]).ids
        return Partner.browse(ids)

    def make_invoices(self, partner_ids, days_ago):
        """Posted invoices, one per ``partner_ids`` entry; ``days_ago(k)`` is
        the invoice date (immediate payment) of the k-th one."""
        Move = self.env["account.move"].with_context(
            tracking_disable=True, mail_create_nolog=True
        )
        vals_list = [
            {
                "move_type": "out_invoice",
                "partner_id": pid,
                "invoice_date": self.today - datetime.timedelta(days=days_ago(k)),
                "invoice_payment_term_id": self.immediate.id,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.product.id, "quantity": 1 + k % 5}
                    )
                ],
            }
            for k, pid in enumerate(partner_ids)
        ]
        ids = []
        for start in range(0, len(vals_list), 100):
            ids += Move.create(vals_list[start : start + 100]).ids
        moves = Move.browse(ids)
        for start in range(0, len(ids), 500):
            moves[start : start + 500].action_post()
        self.env.flush_all()
        return moves

    # ------------------------------------------------------- 2. proposals

    def bench_proposals(self):
        """`_create_proposal` for 1, 5 and 20 invoices, each by another portal
        customer (the first proposal of each), runs interleaved."""
        runs = PLAN_RUNS + 1  # the first run warms up
        customers = self.make_customers(runs * len(PLAN_SIZES), "Planner")
        portal = self.env.ref("base.group_portal")
        users = (
            self.root["res.users"]
            .with_context(no_reset_password=True)
            .create(
                [
                    {
                        "name": partner.name,
                        "login": partner.email,
                        "partner_id": partner.id,
                        "groups_id": [Command.set(portal.ids)],
                    }
                    for partner in customers
                ]
            )
        )
        jobs = []
        partner_ids = []
        for run in range(runs):
            for k, size in enumerate(PLAN_SIZES):
                index = run * len(PLAN_SIZES) + k
                jobs.append((run, size, customers[index], users[index]))
                partner_ids += [customers[index].id] * size
        moves = self.make_invoices(partner_ids, lambda k: 10)
        by_partner = moves.grouped("partner_id")
        self.analyze()
        values = {
            "plan_kind": "monthly",
            "installment_count": 3,
            "day_of_month": 5,
            "first_date": self.today + datetime.timedelta(days=10),
            "reason": "Cash flow problem: we would like to pay in three months.",
        }
        results = {size: [] for size in PLAN_SIZES}
        for run, size, partner, user in jobs:
            Plan = self.root["collection.plan"].with_user(user)
            invoices = by_partner[partner].with_env(Plan.env)
            with Meter(self.root) as m:
                plan = Plan._create_proposal(partner, invoices, values)
            assert plan.state == "proposed" and len(plan.invoice_ids) == size
            if run:
                results[size].append(m)
        log(
            f"proposals: {PLAN_RUNS} runs of {', '.join(map(str, PLAN_SIZES))} invoices"
        )
        return {
            size: {
                "seconds": median([m.seconds for m in ms_]),
                "queries": median([m.queries for m in ms_]),
                "commit": median([m.commit_queries for m in ms_]),
                "range": (
                    min(m.queries for m in ms_),
                    max(m.queries for m in ms_),
                ),
            }
            for size, ms_ in results.items()
        }

    # -------------------------------------------------------- 3. reminders

    def stub_pdf_rendering(self):
        """Core's sending without wkhtmltopdf (about 1.2 s per PDF here, hours
        for thousands): the rendering of the invoice report is replaced by a
        fixed blank one-page PDF; everything else of core's job runs (attachment
        created and linked, e-mail rendered from the template with the PDF,
        queued)."""
        Send = type(self.root["account.move.send"])
        original = Send._prepare_invoice_pdf_report
        pdf = tiny_pdf()

        def _prepare_invoice_pdf_report(self, invoices_data):
            for invoice, invoice_data in invoices_data.items():
                invoice_data["pdf_attachment_values"] = {
                    "name": invoice._get_invoice_report_filename(),
                    "raw": pdf,
                    "mimetype": "application/pdf",
                    "res_model": invoice._name,
                    "res_id": invoice.id,
                    "res_field": "invoice_pdf_report_file",
                }

        Send._prepare_invoice_pdf_report = _prepare_invoice_pdf_report
        return lambda: setattr(Send, "_prepare_invoice_pdf_report", original)

    def remind_addon(self, moves):
        Move = self.root["account.move"]
        with Meter(self.root) as m:
            m.sent = Move._cron_send_reminders(auto_commit=False)
        m.mails = self.root["mail.mail"].search_count(
            [("model", "=", "res.partner"), ("res_id", "in", moves.partner_id.ids)]
        )
        m.logs = self.root["collection.reminder.log"].search_count(
            [("move_id", "in", moves.ids)]
        )
        return m

    def remind_core(self, moves):
        wizard_env = self.env
        Move = self.root["account.move"]
        with Meter(self.root) as m:
            wizard_env["account.move.send.batch.wizard"].with_context(
                active_model="account.move", active_ids=moves.ids
            ).create({}).action_send_and_print()
            m.calls = 0
            while Move.search_count([("sending_data", "!=", False)]):
                assert m.calls < 10000, "core's sending job does not progress"
                Move._cron_account_move_send(job_count=REMIND_JOB_COUNT)
                m.calls += 1
        m.mails = self.root["mail.mail"].search_count(
            [("model", "=", "account.move"), ("res_id", "in", moves.ids)]
        )
        m.pdfs = len(moves.filtered("invoice_pdf_report_id"))
        return m

    def run_side(self, side, moves, excluded, hidden=None):
        """One measure in a savepoint rolled back afterwards: the other side
        starts from the same invoices. Customers outside this size are
        excluded from reminders (the add-on's job takes all overdue invoices);
        ``hidden`` invoices are put on hold (blocked) for this measure."""
        savepoint = self.root.cr.savepoint()
        try:
            excluded.with_context(tracking_disable=True).write(
                {"collection_reminder_excluded": True}
            )
            if hidden:
                self.root.cr.execute(
                    "UPDATE account_move SET collection_block_reason = 'dispute' "
                    "WHERE id IN %s",
                    [tuple(hidden.ids)],
                )
            self.root.flush_all()
            self.root.cr.precommit.run()
            if side == "addon":
                return self.remind_addon(moves)
            return self.remind_core(moves)
        finally:
            rollback_savepoint(self.root, savepoint)

    def bench_reminders(self):
        largest = max(REMIND_SIZES)
        t0 = time.perf_counter()
        customers = self.make_customers(largest // REMIND_PER_CUSTOMER, "Late")
        # Customer k gets invoices k, k + C, k + 2C...: each size takes the first
        # customers, with all their invoices. Overdue by 10 to 70 days: the
        # three default levels (7, 21, 45 days) are due.
        count = len(customers)
        partner_ids = [customers[k % count].id for k in range(largest)]
        moves = self.make_invoices(partner_ids, lambda k: 10 + 15 * (k // count))
        create_rate = (time.perf_counter() - t0) / largest
        log(
            f"reminders: {largest} overdue invoices of {count} customers created "
            f"and posted in {time.perf_counter() - t0:.0f} s"
        )
        self.analyze()
        restore = self.stub_pdf_rendering()
        results = []
        try:
            # Warm-up (templates, reports): 2 customers.
            warm = customers[:2]
            warm_moves = moves.filtered(lambda m: m.partner_id in warm)
            for side in ("addon", "core"):
                self.run_side(side, warm_moves, customers - warm)
            for n, size in enumerate(sorted(REMIND_SIZES)):
                subset = customers[: size // REMIND_PER_CUSTOMER]
                subset_moves = moves.filtered(lambda m, s=subset: m.partner_id in s)
                order = ("addon", "core") if n % 2 == 0 else ("core", "addon")
                measured = {}
                for side in order:
                    measured[side] = self.run_side(
                        side, subset_moves, customers - subset
                    )
                    m = measured[side]
                    log(
                        f"reminders, {size} invoices: {side} {m.seconds:.1f} s, "
                        f"{m.queries:,} queries"
                    )
                results.append((size, len(subset), measured["addon"], measured["core"]))
            per_invoice = self.reminder_per_invoice(customers, moves)
        finally:
            restore()
        return {
            "sizes": results,
            "create_rate": create_rate,
            "per_invoice": per_invoice,
        }

    def reminder_per_invoice(self, customers, moves):
        """The add-on's job for the same customers with 1 overdue invoice each
        (their most overdue: the same level, their other invoices on hold), then
        with all 5: what each more invoice costs."""
        subset = customers[: min(100, len(customers))]
        subset_moves = moves.filtered(lambda m: m.partner_id in subset)
        first = subset_moves.grouped("partner_id")
        one_each = self.root["account.move"].union(
            *(pm.sorted("invoice_date_due")[0] for pm in first.values())
        )
        one = self.run_side(
            "addon", one_each, customers - subset, hidden=subset_moves - one_each
        )
        five = self.run_side("addon", subset_moves, customers - subset)
        log(f"reminders per invoice: {one.queries:,} vs {five.queries:,} queries")
        return len(subset), len(one_each), len(subset_moves), one, five

    # ---------------------------------------------------------- 4. search

    def insert_moves(self, count, partner_ids):
        """``count`` posted customer invoices by SQL, copies of a real one
        (account_move rows only, no journal items: search only). 1% are
        ``plan_proposed``, 1% ``plan_active``, 1% ``dispute``; due dates are
        spread over 1,000 days (0.1% a day)."""
        cr = self.root.cr
        template = self.root["account.move"].search(
            [("move_type", "=", "out_invoice"), ("state", "=", "posted")], limit=1
        )
        cr.execute(
            """
            SELECT column_name FROM information_schema.columns
             WHERE table_name = 'account_move' AND column_name != 'id'
            """
        )
        overrides = {
            "name": SQL("'BENCHSEARCH/' || g"),
            "sequence_prefix": SQL("'BENCHSEARCH/'"),
            "sequence_number": SQL("g"),
            "partner_id": SQL(
                "(%s::int[])[1 + mod(g, %s)]", partner_ids, len(partner_ids)
            ),
            "commercial_partner_id": SQL(
                "(%s::int[])[1 + mod(g, %s)]", partner_ids, len(partner_ids)
            ),
            "invoice_date_due": SQL("DATE '2023-01-01' + mod(g, 1000)"),
            "date": SQL("DATE '2023-01-01' + mod(g, 1000)"),
            "invoice_date": SQL("DATE '2023-01-01' + mod(g, 1000)"),
            "collection_block_reason": SQL(
                "CASE mod(g, 100) WHEN 0 THEN 'plan_proposed' "
                "WHEN 1 THEN 'plan_active' WHEN 2 THEN 'dispute' END"
            ),
            "collection_plan_id": SQL("NULL"),
            "access_token": SQL("NULL"),
            "sending_data": SQL("NULL"),
            "message_main_attachment_id": SQL("NULL"),
            "payment_state": SQL(
                "CASE WHEN mod(g, 100) = 3 THEN 'partial' ELSE 'not_paid' END"
            ),
        }
        columns = [row[0] for row in cr.fetchall()]
        cr.execute(
            SQL(
                "INSERT INTO account_move (%s) SELECT %s FROM account_move t, "
                "generate_series(1, %s) g WHERE t.id = %s",
                SQL(", ").join(SQL.identifier(c) for c in columns),
                SQL(", ").join(
                    overrides.get(c) or SQL.identifier("t", c) for c in columns
                ),
                count,
                template.id,
            )
        )
        return cr.rowcount

    def no_index(self, off):
        """Index scans off (``noindex``: the same search as without the index)."""
        for setting in (
            "enable_indexscan",
            "enable_bitmapscan",
            "enable_indexonlyscan",
        ):
            self.env.cr.execute(f"SET {setting} = off" if off else f"RESET {setting}")

    def explain(self, key, domain):
        Move = self.env["account.move"]
        query = Move._search(domain, order=Move._order)
        self.no_index(key == "noindex")
        self.env.cr.execute(SQL("EXPLAIN %s", query.select()))
        plan = [row[0] for row in self.env.cr.fetchall()]
        self.no_index(False)
        return plan

    def bench_search(self):
        t0 = time.perf_counter()
        partner_ids = self.root["res.partner"].search(
            [("name", "=like", "Bench Late %")]
        ).ids or [self.company.partner_id.id]
        inserted = self.insert_moves(SEARCH_MOVES, partner_ids)
        self.root.invalidate_all()
        self.analyze()
        seconds = time.perf_counter() - t0
        log(f"search: {inserted:,} invoices inserted in {seconds:.0f} s")
        first = datetime.date(2023, 1, 1) + datetime.timedelta(days=500)
        blocked = [("collection_block_reason", "=", "plan_proposed")]
        domains = {
            "addon": blocked,
            "due": [
                ("invoice_date_due", ">=", first),
                ("invoice_date_due", "<", first + datetime.timedelta(days=10)),
            ],
            "payment": [("payment_state", "=", "partial")],
            "noindex": blocked,
        }
        Move = self.env["account.move"]
        counts = {k: len(Move.search(d)) for k, d in domains.items()}  # warm-up
        samples = {k: ([], []) for k in domains}
        for _i in range(SEARCH_RUNS):
            for key, domain in domains.items():
                self.no_index(key == "noindex")
                with Meter(self.env, precommit=False) as m:
                    Move.search(domain).ids  # noqa: B018
                self.no_index(False)
                samples[key][0].append(m.seconds)
                samples[key][1].append(m.queries)
        log("search: done")
        return {
            "total": self.root["account.move"].search_count([]),
            "inserted": inserted,
            "results": {
                k: (median(t), median(q), counts[k]) for k, (t, q) in samples.items()
            },
            "explain": {k: self.explain(k, d) for k, d in domains.items()},
        }

    def run(self):
        self.setup()
        return {
            "plans": self.bench_proposals(),
            "reminders": self.bench_reminders(),
            "search": self.bench_search(),
        }


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def report_rows(portal, plans, reminders, search):
    rows = []

    def row(label, a_t, c_t, a_q, c_q, fmt=sec):
        rows.append(
            f"| {label} | {fmt(a_t)} | {fmt(c_t)} | {ratio(a_t, c_t)} "
            f"| {a_q:,} | {c_q:,} | {a_q - c_q:+,} |"
        )

    for r in portal or []:
        row(
            f"Portal invoice page `/my/invoices/<id>`, {r['label']} "
            f"(HTTP, median of {PORTAL_RUNS})",
            r["a_s"], r["c_s"], int(r["a_q"]), int(r["c_q"]), fmt=ms,
        )  # fmt: skip
    p1, p20 = plans[1], plans[PLAN_SIZES[-1]]
    row(
        f"Propose a payment plan: {PLAN_SIZES[-1]} invoices vs 1 invoice "
        f"(`_create_proposal`, median of {PLAN_RUNS})",
        p20["seconds"], p1["seconds"], int(p20["queries"]), int(p1["queries"]), fmt=ms,
    )  # fmt: skip
    for size, customers, a, c in reminders["sizes"]:
        row(
            f"{size:,} overdue invoices of {customers:,} customers: reminder job vs "
            f"core batch Send wizard + sending job (e-mails only, see below)",
            a.seconds, c.seconds, a.queries, c.queries,
        )  # fmt: skip
    res = search["results"]
    for key, label in (
        ("due", "core `invoice_date_due` 10-day range (index on the column)"),
        ("payment", "core `payment_state = partial` (composite index)"),
        ("noindex", "the same search with index scans disabled"),
    ):
        row(
            f"Search {search['total']:,} invoices: `collection_block_reason = "
            f"plan_proposed` vs {label} (median of {SEARCH_RUNS}; "
            f"{res['addon'][2]:,} / {res[key][2]:,} found)",
            res["addon"][0], res[key][0], int(res["addon"][1]), int(res[key][1]),
            fmt=ms,
        )  # fmt: skip
    return rows


def report_plans(plans):
    lines = [
        "",
        "Proposing a plan (`collection.plan._create_proposal`, as the portal "
        "customer, monthly, 3 installments; queries include those Odoo runs at "
        "commit, i.e. the tracking messages of the blocked invoices):",
        "",
        "| invoices | median time | queries (call) | queries at commit | "
        "queries total (min-max) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in PLAN_SIZES:
        p = plans[size]
        lines.append(
            f"| {size} | {ms(p['seconds'])} | {int(p['queries'] - p['commit'])} "
            f"| {int(p['commit'])} | {int(p['queries'])} "
            f"({p['range'][0]}-{p['range'][1]}) |"
        )
    p1, p20 = plans[1], plans[PLAN_SIZES[-1]]
    growth = (p20["queries"] - p1["queries"]) / (PLAN_SIZES[-1] - 1)
    call_growth = (
        (p20["queries"] - p20["commit"]) - (p1["queries"] - p1["commit"])
    ) / (PLAN_SIZES[-1] - 1)
    if growth < 0.5:
        verdict = (
            f"The query count does not grow with the number of invoices "
            f"({growth:+.2f} per extra invoice)."
        )
    else:
        verdict = (
            f"WARNING: the query count grows with the number of invoices: "
            f"{growth:+.2f} queries per extra invoice in all, {call_growth:+.2f} "
            f"in the call itself, {growth - call_growth:+.2f} at commit."
        )
    return [*lines, "", verdict]


def report_reminders(reminders):
    create_rate = reminders["create_rate"]
    reminders = reminders["sizes"]
    lines = [
        "",
        "Reminders, scaling (add-on: `_cron_send_reminders()`, one e-mail per "
        "customer listing their overdue invoices, a `collection.reminder.log` row "
        "and a chatter note per invoice; core: the batch Send wizard on the same "
        "invoices, then `_cron_account_move_send(job_count="
        f"{REMIND_JOB_COUNT})` until none is left, one e-mail per invoice):",
        "",
        "| invoices / customers | add-on s | core s | add-on queries | core queries "
        "| add-on queries per customer | core queries per invoice | e-mails "
        "(add-on / core) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, customers, a, c in reminders:
        lines.append(
            f"| {size:,} / {customers:,} | {a.seconds:.1f} | {c.seconds:.1f} "
            f"| {a.queries:,} | {c.queries:,} | {a.queries / customers:.1f} "
            f"| {c.queries / size:.1f} | {a.mails:,} / {c.mails:,} |"
        )
    (s1, _c1, a1, k1), (s2, _c2, a2, k2) = reminders[0], reminders[-1]
    if s2 != s1:
        lines += [
            "",
            f"From {s1:,} to {s2:,} invoices (x{s2 / s1:.1f}): time x"
            f"{a2.seconds / a1.seconds:.2f} add-on, x{k2.seconds / k1.seconds:.2f} "
            f"core; queries x{a2.queries / a1.queries:.2f} add-on, "
            f"x{k2.queries / k1.queries:.2f} core.",
        ]
    factor = REMIND_TARGET / s2
    lines += [
        "",
        f"Not measured at the issue's size ({REMIND_TARGET:,} invoices of "
        f"{REMIND_TARGET // REMIND_PER_CUSTOMER:,} customers): creating and "
        "posting the invoices through the ORM alone would take about "
        f"{factor * s2 * create_rate / 60:.0f} min, and core e-mails them one by one. "
        f"Linear extrapolation from {s2:,} invoices: add-on about "
        f"{a2.seconds * factor / 60:.1f} min and {a2.queries * factor:,.0f} queries, "
        f"core about {k2.seconds * factor / 60:.1f} min and "
        f"{k2.queries * factor:,.0f} queries.",
        "",
        "What is compared: both sides queue their e-mails (`mail.mail`, sent by "
        "the mail queue after the commit, which never happens here). Core's "
        "invoice PDF rendering by wkhtmltopdf (about 1.2 s per invoice here) is "
        "replaced by a fixed blank one-page PDF: core's attachment is still "
        "created and linked and its e-mail rendered and queued, so core's figures "
        "are a "
        "lower bound. Each side runs on the same posted invoices in a savepoint "
        "rolled back before the other side (order alternated between the "
        f"sizes); {REMIND_PER_CUSTOMER} invoices per customer, overdue by 10 to "
        "70 days. E-mails queued: "
        + "; ".join(
            f"{size:,}: add-on {a.mails:,} ({a.sent:,} customers reminded, "
            f"{a.logs:,} levels logged), core {c.mails:,} "
            f"({c.pdfs:,} PDFs, {c.calls} job runs)"
            for size, _customers, a, c in reminders
        )
        + ".",
    ]
    return lines


def report_per_invoice(reminders):
    customers, n1, n5, one, five = reminders["per_invoice"]
    growth = (five.queries - one.queries) / max(n5 - n1, 1)
    return [
        "",
        f"Reminder job, cost of each invoice: the same {customers} customers with "
        f"1 overdue invoice each ({n1} invoices, the others on hold): "
        f"{one.queries:,} queries, {one.seconds:.2f} s; with all theirs "
        f"({n5} invoices): {five.queries:,} queries, {five.seconds:.2f} s, i.e. "
        f"{growth:+.2f} queries per more invoice"
        + (
            " (no per-invoice query: the job's queries follow the customers)."
            if growth < 0.5
            else " (WARNING: the job queries per invoice)."
        ),
    ]


def report_search(search, create_rate):
    labels = {
        "addon": "collection_block_reason = 'plan_proposed'",
        "due": "invoice_date_due, 10-day range",
        "payment": "payment_state = 'partial'",
        "noindex": "collection_block_reason = 'plan_proposed', index scans disabled",
    }
    lines = [
        "",
        f"Search: {search['inserted']:,} posted customer invoices inserted by SQL "
        "in the transaction (copies of an ORM-created invoice, `account_move` rows "
        f"only: the ORM takes {create_rate * 1000:.0f} ms per invoice here), 1% "
        "each `plan_proposed`, `plan_active`, `dispute`, 1% `partial`; due dates "
        "spread over 1,000 days; ANALYZE before measuring; "
        "`account.move.search(domain)` as admin (record rules, default order), "
        "searches interleaved. EXPLAIN of each search:",
        "",
        "```",
    ]
    for key, plan in search["explain"].items():
        lines.append(f"-- {labels[key]}")
        lines += plan
    lines.append("```")
    used = any(
        "account_move__collection_block_reason_index" in line
        for line in search["explain"]["addon"]
    )
    lines += [
        "" if used else "WARNING: the blocking reason search does not use its index.",
    ]
    return lines


def report(portal, plans, reminders, search, machine):
    lines = [
        "",
        "## Payment plans and reminders (bench/bench_plans.py)",
        "",
        "| scenario | measured | reference | ratio | queries measured "
        "| queries reference | extra queries |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *report_rows(portal, plans, reminders, search),
        "",
    ]
    if portal:
        worst = max(r["a_q"] - r["c_q"] for r in portal)
        lines += [
            f"Portal page: measured = add-on (`apc_bench`), reference = core "
            f"(`{CORE_DB}`: the same modules without the add-on), the same customer, "
            "portal user and invoices in both; each side served by its own Odoo "
            "(threaded, no cron) on 127.0.0.1; queries counted by the server "
            "(its werkzeug access log line), time measured by the client; "
            f"{PORTAL_WARMUP} warm-up requests, then {PORTAL_RUNS} per page and "
            "side, interleaved. Add-on setting 'Customers may propose payment "
            "plans' on. Query ranges (min-max) add-on / core: "
            + "; ".join(
                f"{r['a_q_range'][0]}-{r['a_q_range'][1]} / "
                f"{r['c_q_range'][0]}-{r['c_q_range'][1]}"
                for r in portal
            )
            + f". Worst extra queries: {worst:+.0f} "
            + (
                "(within the 3 allowed)."
                if worst <= 3
                else "(MORE than the 3 allowed)."
            ),
        ]
    lines += report_plans(plans)
    lines += report_reminders(reminders)
    lines += report_per_invoice(reminders)
    lines += report_search(search, reminders["create_rate"])
    lines += [
        "Measures 2 to 4: one transaction rolled back at the end, ANALYZE before "
        "each measured phase, superuser for the jobs, admin for the searches.",
        "",
        machine,
    ]
    return "\n".join(lines)


def main():
    config.parse_config(sys.argv[1:])
    dbname = config["db_name"]
    if isinstance(dbname, list):
        dbname = dbname[0]
    assert dbname, "usage: bench_plans.py --addons-path=... -d DB"
    import threading

    # Stopped by SIGTERM: stop the servers started here and restore the setting.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    threading.current_thread().dbname = dbname

    t0 = time.perf_counter()
    portal = None
    if os.environ.get("BENCH_PORTAL", "1") != "0":
        portal = bench_portal()
    threading.current_thread().dbname = dbname
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            results = Bench(env).run()
        finally:
            cr.rollback()
        pg = cr.connection.server_version
    with registry.cursor() as cr:
        odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})[
            "ir.attachment"
        ]._gc_file_store()
    import platform

    machine = (
        f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
        f"PostgreSQL {pg // 10000}.{pg % 10000}, Odoo {odoo.release.version}; "
        f"{datetime.date.today()}; bench_plans.py ran in "
        f"{time.perf_counter() - t0:.0f} s."
    )
    table = report(
        portal, results["plans"], results["reminders"], results["search"], machine
    )
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "a", encoding="utf-8") as f:
        f.write(table + "\n")
    sys.stdout.write(table + "\n")
    sys.stdout.flush()
    log(f"bench_plans.py ran in {time.perf_counter() - t0:.0f} s; appended to {OUT}")


if __name__ == "__main__":
    main()
