# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmarks of the automatic debits of account_payment_collection.

Run by ``make bench`` (tools/bench.sh) after bench_plans.py, as::

    python3 bench/bench_debits.py --addons-path=... -d apc_bench --log-level=warn

1. Webhooks, through HTTP: the GoCardless webhook endpoint
   ``POST /payment/gocardless/webhook`` receiving batches of 250 ``payments``
   ``confirmed`` events about pending debits, vs Odoo's Stripe webhook route
   ``POST /payment/stripe/webhook`` receiving as many
   ``payment_intent.succeeded`` events about pending Stripe transactions, one
   per request as Stripe sends them, on the core database (``apc_bench_core``:
   the same modules without the add-on) and on the add-on's (which overrides
   that route). Each database is served by its own Odoo (threaded, no cron) on
   127.0.0.1; two client threads post the requests, signed exactly as each
   provider signs them (GoCardless: hex HMAC-SHA256 of the raw body in
   ``Webhook-Signature``; Stripe: ``stripe.WebhookSignature``); queries are
   counted by the servers (their access log line), latencies by the client.
   The GoCardless code fetches each payment's current status from the API:
   the fake of the API in tests/fake_gocardless.py is served by this process
   and the servers are started by this script (``--serve``), which routes
   their requests to ``api(-sandbox).gocardless.com`` and ``api.stripe.com``
   to the fakes (the patch of ``requests.Session.send`` Odoo's tests use;
   any other external request is refused) before running Odoo: the
   production code is unchanged. The transactions, their invoices and
   customers are committed once, reused (set back to pending before and after
   each run) and topped up when some are missing; the provider credentials
   are the fakes'.
2. In this process, on the add-on's database, in one transaction rolled back
   at the end: the due-date job (``_cron_collection_send_due``, the scheduled
   action ``ir_cron_collection_send_due``) on N due invoices of automatic
   customers, each with a saved token of Odoo's ``payment_demo`` provider
   answering at once, vs Odoo's own way of charging a saved token, Register
   Payment with the token, one invoice at a time, on the same invoices (each
   side in a savepoint rolled back before the other). Each run of the job
   (a batch) and each Register Payment starts a new ORM transaction after
   doing what its commit would (flush, tracking), as the scheduler and each
   HTTP request do. After the first size, as a reference, Register Payment on
   the core database, rolled back too.

The databases are created when missing (the add-on's: payment_demo, then the
add-on; the core one: payment_demo and the add-on's dependencies), without
demo data; an existing one is used as it is (tools/bench.sh updates
``apc_bench``). The table is appended to BENCH_OUT (bench/results/latest.md).

Settings (environment variables): BENCH_DEBIT_SIZES (2000,10000: the numbers
of due invoices measured; when they would make the whole run exceed
BENCH_DEBIT_BUDGET, all are reduced by the same factor to what fits, and a
later size is reduced again or skipped if the rates measured say so; the
output says so and extrapolates), BENCH_DEBIT_BUDGET (900 seconds),
BENCH_DEBIT_BATCH (50, the scheduled action's batch), BENCH_DEBIT_CORE_N (500,
at most the first size: invoices charged by Register Payment on the core
database; 0 skips it), BENCH_WEBHOOK (1; 0 skips measure 1),
BENCH_WEBHOOK_EVENTS (2000), BENCH_WEBHOOK_BATCH (250), BENCH_WEBHOOK_WORKERS
(2), BENCH_WEBHOOK_PORTS (8969,8970), BENCH_DEBITS_CORE_DB (BENCH_CORE_DB,
else apc_bench_core), BENCH_OUT (bench/results/latest.md; the servers' logs
go next to it).
"""

import datetime
import functools
import importlib.util
import math
import os
import platform
import queue
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import requests

import odoo
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ADDON = "account_payment_collection"

DEBIT_SIZES = sorted(
    int(s) for s in os.environ.get("BENCH_DEBIT_SIZES", "2000,10000").split(",")
)
DEBIT_BUDGET = float(os.environ.get("BENCH_DEBIT_BUDGET", "900"))
DEBIT_BATCH = int(os.environ.get("BENCH_DEBIT_BATCH", "50"))
DEBIT_CORE_N = int(os.environ.get("BENCH_DEBIT_CORE_N", "500"))
WEBHOOK = os.environ.get("BENCH_WEBHOOK", "1") != "0"
WEBHOOK_EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "2000"))
WEBHOOK_BATCH = int(os.environ.get("BENCH_WEBHOOK_BATCH", "250"))
WEBHOOK_WORKERS = int(os.environ.get("BENCH_WEBHOOK_WORKERS", "2"))
WEBHOOK_WARMUP = 20  # events per endpoint, on transactions of their own
# GoCardless counts a webhook without a 2xx answer within 10 s as failed
# (support.gocardless.com, "Webhook retries / failures").
GOCARDLESS_WEBHOOK_TIMEOUT = 10
PORTS = [int(p) for p in os.environ.get("BENCH_WEBHOOK_PORTS", "8969,8970").split(",")]
CORE_DB = os.environ.get(
    "BENCH_DEBITS_CORE_DB", os.environ.get("BENCH_CORE_DB", "apc_bench_core")
)
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "results", "latest.md"))
RESULTS_DIR = os.path.dirname(os.path.abspath(OUT))

# The servers started by this script (``--serve``) find the fakes there.
FAKE_GOCARDLESS_ENV = "APC_BENCH_FAKE_GOCARDLESS_URL"
FAKE_STRIPE_ENV = "APC_BENCH_FAKE_STRIPE_URL"
GOCARDLESS_ROUTE = "/payment/gocardless/webhook"
STRIPE_ROUTE = "/payment/stripe/webhook"
# Webhook fixtures: customers' refs and transaction references.
GC_REF = "APC-BENCH-WEBHOOK-GC"
ST_REF = "APC-BENCH-WEBHOOK-ST"
ST_TX_PREFIX = "APCBENCH-ST-"
STRIPE_SECRET_KEY = "sk_test_apc_bench_fake"
STRIPE_PUBLISHABLE_KEY = "pk_test_apc_bench_fake"
STRIPE_WEBHOOK_SECRET = "whsec_apc_bench_fake"
ACCESS_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[0-9.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<query_time>[0-9.]+) (?P<other_time>[0-9.]+)"
)


def log(msg):
    sys.stderr.write(f"  - {msg}\n")
    sys.stderr.flush()


def median(values):
    return statistics.median(values) if values else 0


def percentile(values, share):
    """Nearest-rank percentile (``share`` in 0-1): with 8 values, p99 is the
    largest."""
    values = sorted(values)
    if not values:
        return 0
    return values[max(0, math.ceil(share * len(values)) - 1)]


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


def ms(seconds):
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def load_fake(name):
    """A fake of a provider's API from tests/ (stdlib and SDK imports only),
    loaded from its file: the benchmark is not part of the add-on's code."""
    path = os.path.join(REPO, "tests", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"apc_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Host -> base URL of the fake serving it (see route_provider_apis).
API_ROUTES = {}


def route_provider_apis(gocardless_url=None, stripe_url=None):
    """Send the requests aimed at the GoCardless and Stripe APIs to the fakes
    (as the fakes' test mixins do, on ``requests.Session.send``, which both
    SDKs and ``payment_stripe`` go through) and refuse any other request that
    would leave the machine. Called again, it changes the fakes' URLs."""
    fake_gocardless = load_fake("fake_gocardless")
    API_ROUTES.clear()
    if gocardless_url:
        API_ROUTES.update(
            dict.fromkeys(fake_gocardless.GOCARDLESS_API_HOSTS, gocardless_url)
        )
    if stripe_url:
        API_ROUTES["api.stripe.com"] = stripe_url
    if getattr(requests.Session.send, "apc_bench", False):
        return
    original = requests.Session.send
    original_host_header = fake_gocardless.ORIGINAL_HOST_HEADER

    def send(session, request, **kwargs):
        split = urlsplit(request.url)
        base = API_ROUTES.get(split.hostname)
        if base:
            request.headers[original_host_header] = split.hostname
            query = f"?{split.query}" if split.query else ""
            request.url = f"{base}{split.path}{query}"
            kwargs["proxies"] = {}
        elif split.hostname not in ("127.0.0.1", "localhost"):
            raise requests.ConnectionError(
                f"benchmark: request to {split.hostname} refused"
            )
        return original(session, request, **kwargs)

    send.apc_bench = True
    requests.Session.send = send


def serve(args):
    """``bench_debits.py --serve <odoo options>``: an Odoo server whose
    requests to the providers' APIs go to the fakes of the benchmark."""
    route_provider_apis(
        os.environ.get(FAKE_GOCARDLESS_ENV), os.environ.get(FAKE_STRIPE_ENV)
    )
    from odoo.cli.command import main as odoo_main

    sys.argv = ["odoo", *args]
    odoo_main()


def new_session():
    """An HTTP client that talks to 127.0.0.1 directly, whatever the proxies
    set in the environment."""
    session = requests.Session()
    session.trust_env = False
    return session


class Meter:
    """Wall time and SQL queries of a block, pending writes and what Odoo runs
    at commit time (tracking messages) included, as in bench_plans.py."""

    def __init__(self, env):
        self.cr = env.cr
        self.seconds = 0.0
        self.queries = 0

    def __enter__(self):
        self.cr.flush()
        self.cr.flush()
        self.cr.clear()
        self._q0 = self.cr.sql_log_count
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        self.cr.flush()  # pending writes, then the commit hooks
        self.cr.flush()  # what the hooks wrote
        self.seconds += time.perf_counter() - self._t0
        self.queries += self.cr.sql_log_count - self._q0
        return False


def rollback_savepoint(env, savepoint):
    """Undo what a measure did (ORM cache, pending hooks and rows)."""
    env.cr.precommit.clear()
    env.cr.postcommit.clear()
    savepoint.close(rollback=True)
    env.invalidate_all()


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------


def db_exists(dbname):
    return odoo.service.db.exp_db_exist(dbname)


def odoo_install(dbname, modules):
    logfile = os.path.join(RESULTS_DIR, "bench_debits.log")
    cmd = [
        sys.executable,
        "-m",
        "odoo",
        f"--addons-path={config['addons_path']}",
        f"--database={dbname}",
        f"--init={modules}",
        "--without-demo=all",
        "--stop-after-init",
        f"--http-port={config['http_port']}",
        "--log-level=warn",
        f"--logfile={logfile}",
    ]
    if subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False).returncode:  # noqa: S603
        raise RuntimeError(f"installing {modules} in {dbname} failed, see {logfile}")


def ensure_databases(dbname):
    """Create the add-on's and the core database when they do not exist."""
    import ast

    with open(os.path.join(REPO, "__manifest__.py"), encoding="utf-8") as f:
        depends = ast.literal_eval(f.read())["depends"]
    if not db_exists(dbname):
        log(f"creating {dbname}: payment_demo, then {ADDON} (a few minutes)")
        odoo_install(dbname, "payment_demo")
        odoo_install(dbname, ADDON)
    if not db_exists(CORE_DB):
        log(f"creating {CORE_DB}: payment_demo and {', '.join(depends)}")
        odoo_install(CORE_DB, ",".join(["payment_demo", *depends]))


# ---------------------------------------------------------------------------
# 1. Webhooks, through HTTP
# ---------------------------------------------------------------------------


def make_partners(env, prefix, start, count):
    Partner = env["res.partner"].with_context(
        tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
    )
    vals_list = [
        {
            "name": f"Bench Customer {prefix} {i:05d}",
            "ref": f"{prefix}-{i:05d}",
            "email": f"{prefix.lower()}-{i:05d}@example.com",
            "is_company": True,
            "customer_rank": 1,
        }
        for i in range(start, start + count)
    ]
    ids = []
    for first in range(0, count, 1000):
        ids += Partner.create(vals_list[first : first + 1000]).ids
    return Partner.browse(ids)


def make_invoices(env, partner_ids, product, currency=None, today=None):
    """Posted customer invoices due ``today`` (immediate payment), one per
    ``partner_ids`` entry."""
    today = today or datetime.date.today()
    Move = env["account.move"].with_context(
        tracking_disable=True, mail_create_nolog=True
    )
    immediate = env.ref("account.account_payment_term_immediate")
    vals_list = [
        {
            "move_type": "out_invoice",
            "partner_id": pid,
            "invoice_date": today,
            "invoice_payment_term_id": immediate.id,
            "invoice_line_ids": [
                Command.create({"product_id": product.id, "quantity": 1 + k % 5})
            ],
            **({"currency_id": currency.id} if currency else {}),
        }
        for k, pid in enumerate(partner_ids)
    ]
    ids = []
    for first in range(0, len(vals_list), 100):
        ids += Move.create(vals_list[first : first + 100]).ids
    moves = Move.browse(ids)
    for first in range(0, len(ids), 500):
        moves[first : first + 500].action_post()
    env.flush_all()
    return moves


def bench_product(env, code):
    return env["product.product"].search([("default_code", "=", code)], limit=1) or env[
        "product.product"
    ].create(
        {
            "name": "Bench subscription",
            "default_code": code,
            "type": "service",
            "list_price": 120.0,
            "taxes_id": [Command.clear()],
        }
    )


def set_pending(env, txs):
    """Put the fixture's transactions back in the state the events find them
    in (the webhooks set them done; nothing post-processes them)."""
    if txs:
        env.cr.execute(
            SQL(
                "UPDATE payment_transaction SET state = 'pending',"
                " state_message = NULL, is_post_processed = false,"
                " last_state_change = now() AT TIME ZONE"
                " 'UTC' WHERE id IN %s",
                tuple(txs.ids),
            )
        )
        env.invalidate_all()


def write_if_changed(record, values):
    changed = {k: v for k, v in values.items() if record[k] != v}
    if changed:
        record.write(changed)


def stripe_fixture(env, count):
    """``count`` pending Stripe transactions (SEPA debits of customer invoices
    in EUR, processing at Stripe), committed once and reused."""
    provider = env.ref("payment.payment_provider_stripe")
    write_if_changed(
        provider,
        {
            "state": "test",
            "stripe_secret_key": STRIPE_SECRET_KEY,
            "stripe_publishable_key": STRIPE_PUBLISHABLE_KEY,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
        },
    )
    Tx = env["payment.transaction"]
    txs = Tx.search(
        [
            ("provider_id", "=", provider.id),
            ("reference", "=like", f"{ST_TX_PREFIX}%"),
        ],
        order="id",
    )
    usable = txs.filtered(lambda t: t.state in ("pending", "done") and not t.payment_id)
    missing = count - len(usable)
    if missing > 0:
        t0 = time.perf_counter()
        start = len(txs)
        eur = env.ref("base.EUR")
        eur.active = True
        partners = make_partners(env, ST_REF, start, missing)
        invoices = make_invoices(env, partners.ids, bench_product(env, ST_REF), eur)
        sepa = env.ref("payment.payment_method_sepa_direct_debit")
        new = Tx.create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": sepa.id,
                    "reference": f"{ST_TX_PREFIX}{start + k:05d}",
                    "provider_reference": f"pi_apcbench{start + k:05d}",
                    "amount": invoice.amount_total,
                    "currency_id": eur.id,
                    "partner_id": invoice.partner_id.id,
                    "operation": "online_direct",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
                for k, invoice in enumerate(invoices)
            ]
        )
        new._set_pending()
        usable |= new
        log(
            f"{env.cr.dbname}: {missing} pending Stripe transactions created in "
            f"{time.perf_counter() - t0:.0f} s"
        )
    usable = usable[:count]
    set_pending(env, usable)
    return usable, [
        {
            "id": tx.id,
            "reference": tx.reference,
            "intent": tx.provider_reference,
            "amount": round(tx.amount * 100),
        }
        for tx in usable
    ]


def gocardless_fixture(env, count, fake):
    """``count`` pending GoCardless debits of due invoices of automatic
    customers, made by the due-date job against the fake (committed once and
    reused), and their payments at the fake, confirmed."""
    provider = env.ref(f"{ADDON}.payment_provider_gocardless")
    fake_module = load_fake("fake_gocardless")
    write_if_changed(
        provider,
        {
            "state": "test",
            "gocardless_access_token": fake_module.ACCESS_TOKEN,
            "gocardless_webhook_secret": fake_module.WEBHOOK_SECRET,
        },
    )
    Tx = env["payment.transaction"]
    fixture_partners = env["res.partner"].search([("ref", "=like", f"{GC_REF}-%")])
    txs = Tx.search(
        [
            ("provider_id", "=", provider.id),
            ("partner_id", "in", fixture_partners.ids),
        ],
        order="id",
    )
    usable = txs.filtered(
        lambda t: t.state in ("pending", "done")
        and not t.payment_id
        and t.provider_reference
    )
    missing = count - len(usable)
    if missing > 0:
        t0 = time.perf_counter()
        env.ref("base.EUR").active = True
        partners = make_partners(env, GC_REF, len(fixture_partners), missing)
        sepa = env.ref("payment.payment_method_sepa_direct_debit")
        mandates = [fake.create_mandate() for _p in partners]
        tokens = env["payment.token"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": sepa.id,
                    "partner_id": partner.id,
                    "provider_ref": mandate["id"],
                    "payment_details": mandate["reference"],
                    "collection_mandate_status": "active",
                }
                for partner, mandate in zip(partners, mandates, strict=True)
            ]
        )
        for partner, token in zip(partners, tokens, strict=True):
            partner.with_context(tracking_disable=True).write(
                {"collection_mode": "automatic", "collection_token_id": token.id}
            )
        invoices = make_invoices(
            env, partners.ids, bench_product(env, GC_REF), env.ref("base.EUR")
        )
        assert set(invoices.mapped("collection_state")) == {"scheduled"}
        Move = env["account.move"]
        for _run in range(missing // 250 + 5):
            # Committed after each batch, as when the scheduler runs it.
            if not Move._cron_collection_send_due(batch_size=250, auto_commit=True):
                break
        new = Tx.search(
            [("provider_id", "=", provider.id), ("invoice_ids", "in", invoices.ids)]
        )
        assert len(new) == missing, f"{len(new)} debits made out of {missing}"
        assert set(new.mapped("state")) == {"pending"}, set(new.mapped("state"))
        usable |= new
        log(
            f"{env.cr.dbname}: {missing} pending GoCardless debits made by the job "
            f"in {time.perf_counter() - t0:.0f} s"
        )
    usable = usable[:count]
    set_pending(env, usable)
    database_uuid = env["ir.config_parameter"].get_param("database.uuid")
    payments = []
    for tx in usable:
        payment = {
            "id": tx.provider_reference,
            "amount": round(tx.amount * 100),
            "amount_refunded": 0,
            "currency": tx.currency_id.name,
            "charge_date": datetime.date.today().isoformat(),
            "reference": tx.reference,
            "metadata": {
                "odoo_reference": tx.reference,
                "odoo_database": database_uuid,
            },
            "retry_if_possible": False,
            "scheme": "sepa_core",
            "status": "confirmed",
            "links": {"mandate": tx.token_id.provider_ref},
        }
        fake.payments[payment["id"]] = payment
        payments.append({"id": tx.id, "payment": payment})
    return usable, payments


def webhook_fixtures(dbname, fake_gocardless):
    count = WEBHOOK_EVENTS + WEBHOOK_WARMUP
    data = {}
    for db, with_addon in ((dbname, True), (CORE_DB, False)):
        threading.current_thread().dbname = db
        with Registry(db).cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if env["ir.module.module"].search_count(
                [("name", "=", ADDON), ("state", "=", "installed")]
            ) != int(with_addon):
                raise RuntimeError(
                    f"{db}: {ADDON} must be {'installed' if with_addon else 'absent'}"
                )
            cr.execute("SELECT now() AT TIME ZONE 'UTC'")
            data[db, "since"] = cr.fetchone()[0]
            if not env.company.email:
                env.company.email = "billing@example.com"
            data[db, "stripe"] = stripe_fixture(env, count)[1]
            if with_addon:
                data[db, "gocardless"] = gocardless_fixture(
                    env, count, fake_gocardless
                )[1]
            cr.commit()
    threading.current_thread().dbname = dbname
    return data


def webhook_cleanup(dbname, data, tag):
    """Set the fixture's transactions back to pending, forget the events of
    this run and the scheduler triggers they (and the fixture's debits)
    created."""
    for db in (dbname, CORE_DB):
        threading.current_thread().dbname = db
        with Registry(db).cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            ids = [
                tx["id"]
                for key in ("stripe", "gocardless")
                for tx in data.get((db, key), [])
            ]
            set_pending(env, env["payment.transaction"].browse(ids))
            if db == dbname:
                cr.execute(
                    "DELETE FROM collection_provider_event WHERE event_id LIKE %s"
                    " OR event_id LIKE %s",
                    [f"EVB{tag}%", f"evt_bench{tag}%"],
                )
            # The triggers of the debits of the fixture and of this run's events.
            crons = env.ref("payment.cron_post_process_payment_tx")
            if db == dbname:
                crons |= env.ref(f"{ADDON}.ir_cron_collection_send_due")
            cr.execute(
                "DELETE FROM ir_cron_trigger WHERE cron_id IN %s AND create_date >= %s",
                [tuple(crons.ids), data[db, "since"]],
            )
            cr.commit()
    threading.current_thread().dbname = dbname


class Server:
    """An Odoo server on one database (threaded, no cron, on 127.0.0.1) whose
    requests to the providers' APIs go to the fakes (see ``serve``)."""

    def __init__(self, dbname, port, fake_env):
        self.dbname = dbname
        self.port = port
        self.fake_env = fake_env
        self.url = f"http://127.0.0.1:{port}"
        self.logfile = os.path.join(RESULTS_DIR, f"server_debits_{dbname}.log")
        self.proc = None

    def start(self):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", self.port))
            except OSError as error:
                raise RuntimeError(
                    f"port {self.port} is busy (BENCH_WEBHOOK_PORTS): {error}"
                ) from error
        if os.path.exists(self.logfile):
            os.remove(self.logfile)
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--serve",
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
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env={**os.environ, **self.fake_env},
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

    def log_size(self):
        try:
            return os.path.getsize(self.logfile)
        except OSError:
            return 0

    def access_lines(self, offset, path, count):
        """The access log lines of the ``count`` POSTs to ``path`` logged since
        ``offset``."""
        for _attempt in range(250):
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                hits = [
                    m
                    for m in map(ACCESS_LINE.search, f.read().splitlines())
                    if m and m["method"] == "POST" and m["path"] == path
                ]
            if len(hits) >= count:
                return hits
            time.sleep(0.02)
        raise RuntimeError(
            f"{len(hits)} access log lines for {count} POST {path} in {self.logfile}"
        )

    def post_all(self, path, jobs, workers):
        """POST the requests ``jobs`` (callables returning ``(body, headers,
        events)``, signing at sending time) with ``workers`` client threads.

        :return: wall time, [(seconds, status, events)], the access log lines
        """
        todo = queue.Queue()
        for job in jobs:
            todo.put(job)
        results = []
        errors = []

        def worker():
            session = new_session()
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                body, headers, events = job()
                t0 = time.perf_counter()
                try:
                    response = session.post(
                        self.url + path, data=body, headers=headers, timeout=600
                    )
                except requests.RequestException as error:
                    errors.append(error)
                    return
                results.append((time.perf_counter() - t0, response.status_code, events))

        offset = self.log_size()
        threads = [threading.Thread(target=worker) for _w in range(workers)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - t0
        if errors:
            raise RuntimeError(f"POST {path} to {self.dbname}: {errors[0]}")
        return wall, results, self.access_lines(offset, path, len(jobs))


def gocardless_jobs(fake, payments, tag, first):
    """Batches of WEBHOOK_BATCH ``payments.confirmed`` events, signed by the
    fake as GoCardless signs them (the body is built beforehand)."""
    jobs = []
    for start in range(0, len(payments), WEBHOOK_BATCH):
        batch = payments[start : start + WEBHOOK_BATCH]
        events = [
            fake.event(
                "payments",
                "confirmed",
                {"payment": item["payment"]["id"]},
                event_id=f"EVB{tag}{first + start + k:06d}",
                resource_metadata=item["payment"]["metadata"],
            )
            for k, item in enumerate(batch)
        ]
        body, headers = fake.webhook(events)
        jobs.append(functools.partial(tuple, (body, headers, len(events))))
    return jobs


def stripe_jobs(fake, intents, tag, first):
    """One ``payment_intent.succeeded`` event per request, signed at sending
    time with ``stripe.WebhookSignature`` (the fake's ``event``)."""

    def job(k, intent):
        obj = {
            "id": intent["intent"],
            "object": "payment_intent",
            "amount": intent["amount"],
            "amount_received": intent["amount"],
            "currency": "eur",
            "description": intent["reference"],
            "payment_method": f"pm_apcbench{first + k:06d}",
            "payment_method_types": ["sepa_debit"],
            "status": "succeeded",
        }
        body, headers = fake.event(
            "payment_intent.succeeded",
            obj,
            STRIPE_WEBHOOK_SECRET,
            event_id=f"evt_bench{tag}{first + k:06d}",
        )
        return body.encode(), headers, 1

    return [lambda k=k, i=i: job(k, i) for k, i in enumerate(intents)]


def tx_states(dbname, items):
    threading.current_thread().dbname = dbname
    with Registry(dbname).cursor() as cr:
        cr.execute(
            "SELECT state, count(*) FROM payment_transaction WHERE id IN %s GROUP BY 1",
            [tuple(item["id"] for item in items)],
        )
        return dict(cr.fetchall())


def cron_triggers(dbname, since):
    with Registry(dbname).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        cr.execute(
            "SELECT count(*) FROM ir_cron_trigger"
            " WHERE cron_id = %s AND create_date >= %s",
            [env.ref("payment.cron_post_process_payment_tx").id, since],
        )
        return cr.fetchone()[0]


def webhook_measure(key, label, db, server, path, jobs, items, fakes, data):
    fake_gocardless, fake_stripe = fakes
    gc_calls, st_calls = len(fake_gocardless.calls), len(fake_stripe.requests)
    triggers = cron_triggers(db, data[db, "since"])
    wall, results, lines = server.post_all(path, jobs, WEBHOOK_WORKERS)
    events = sum(n for _s, _st, n in results)
    states = tx_states(db, items)
    statuses = {}
    for _s, status, _n in results:
        statuses[status] = statuses.get(status, 0) + 1
    queries = [int(line["queries"]) for line in lines]
    server_seconds = [
        float(line["query_time"]) + float(line["other_time"]) for line in lines
    ]
    result = {
        "key": key,
        "label": label,
        "db": db,
        "events": events,
        "requests": len(results),
        "wall": wall,
        "eps": events / wall,
        "p50": percentile([s for s, _st, _n in results], 0.5),
        "p99": percentile([s for s, _st, _n in results], 0.99),
        "p99_event": percentile([s / n for s, _st, n in results], 0.99),
        "queries": sum(queries),
        "q_range": (min(queries), max(queries)),
        "server_seconds": sum(server_seconds),
        "statuses": statuses,
        "states": states,
        "api_gocardless": len(fake_gocardless.calls) - gc_calls,
        "api_stripe": len(fake_stripe.requests) - st_calls,
        "triggers": cron_triggers(db, data[db, "since"]) - triggers,
    }
    log(
        f"webhooks, {label}: {events} events in {wall:.1f} s "
        f"({result['eps']:.0f}/s), {sum(queries) / events:.1f} queries per event, "
        f"statuses {statuses}, transactions {states}"
    )
    return result


def bench_webhooks(dbname):
    fake_gocardless_module = load_fake("fake_gocardless")
    fake_stripe_module = load_fake("fake_stripe")
    fake_gocardless = fake_gocardless_module.FakeGoCardless()
    fake_stripe = fake_stripe_module.FakeStripe().start()
    fakes = (fake_gocardless, fake_stripe)
    # This process makes the fixtures' debits against the fake too.
    route_provider_apis(fake_gocardless.url, fake_stripe.url)
    tag = secrets.token_hex(3)
    t0 = time.perf_counter()
    data = {}
    try:
        data = webhook_fixtures(dbname, fake_gocardless)
        log(f"webhook fixtures ready in {time.perf_counter() - t0:.0f} s")
        fake_env = {
            FAKE_GOCARDLESS_ENV: fake_gocardless.url,
            FAKE_STRIPE_ENV: fake_stripe.url,
        }
        servers = {
            dbname: Server(dbname, PORTS[0], fake_env),
            CORE_DB: Server(CORE_DB, PORTS[1], fake_env),
        }
        try:
            for server in servers.values():
                server.start()
            for server in servers.values():
                server.wait_ready()
            log("servers of both databases started")
            w = WEBHOOK_WARMUP
            gc = data[dbname, "gocardless"]
            scenarios = [
                (
                    "gocardless",
                    f"GoCardless webhook, batches of {WEBHOOK_BATCH}",
                    dbname,
                    GOCARDLESS_ROUTE,
                    lambda items, first: gocardless_jobs(
                        fake_gocardless, items, tag, first
                    ),
                    gc,
                ),
                (
                    "stripe_core",
                    "Odoo's Stripe webhook, core database",
                    CORE_DB,
                    STRIPE_ROUTE,
                    lambda items, first: stripe_jobs(fake_stripe, items, tag, first),
                    data[CORE_DB, "stripe"],
                ),
                (
                    "stripe_addon",
                    "Stripe webhook, add-on database (the add-on's override)",
                    dbname,
                    STRIPE_ROUTE,
                    lambda items, first: stripe_jobs(
                        fake_stripe, items, tag, first + 100000
                    ),
                    data[dbname, "stripe"],
                ),
            ]
            results = []
            for key, label, db, path, make_jobs, items in scenarios:
                # Warm-up on transactions of their own, in 2 requests per worker.
                warm = items[:w]
                warm_jobs = make_jobs(warm, 0)
                if key == "gocardless":
                    size = math.ceil(w / (2 * WEBHOOK_WORKERS))
                    warm_jobs = [
                        job
                        for start in range(0, w, size)
                        for job in gocardless_jobs(
                            fake_gocardless, warm[start : start + size], tag,
                            500000 + start,
                        )
                    ]  # fmt: skip
                servers[db].post_all(path, warm_jobs, WEBHOOK_WORKERS)
                results.append(
                    webhook_measure(
                        key, label, db, servers[db], path,
                        make_jobs(items[w:], w), items[w:], fakes, data,
                    )
                )  # fmt: skip
        finally:
            for server in servers.values():
                server.stop()
    finally:
        if data:
            webhook_cleanup(dbname, data, tag)
        route_provider_apis()
        fake_gocardless.stop()
        fake_stripe.stop()
    log(f"webhooks: done in {time.perf_counter() - t0:.0f} s")
    return results


# ---------------------------------------------------------------------------
# 2. The due-date job vs Register Payment, in one rolled back transaction
# ---------------------------------------------------------------------------


class DebitBench:
    """Due invoices of customers with a saved token of the demo provider
    (answering at once), charged by the due-date job or by Register Payment."""

    def __init__(self, env, with_addon=True):
        self.root = env  # superuser, like the scheduled action's user
        admin = env.ref("base.user_admin")
        # The accountant who registers payments: access rules apply.
        self.env = env(user=admin.id, su=False, context=admin.context_get())
        self.with_addon = with_addon
        self.moves = env["account.move"]  # measured, in order
        self.all_moves = env["account.move"]  # warm-up included
        self.token_by_partner = {}
        self.create_seconds = 0.0

    def analyze(self):
        """Statistics of the rows of this uncommitted transaction (autovacuum
        cannot see them), as the other benchmarks do, but of this database's
        own tables only: a plain ANALYZE also locks the shared catalogs until
        the end of the transaction, which stops the ANALYZE of any other
        database (the core one here, other benchmarks' elsewhere)."""
        self.root.flush_all()
        cr = self.root.cr
        cr.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cr.fetchall()]
        cr.execute(SQL("ANALYZE %s", SQL(", ").join(SQL.identifier(t) for t in tables)))

    def setup(self):
        root = self.root
        root.company.email = root.company.email or "billing@example.com"
        self.demo = root.ref("payment.payment_provider_demo")
        self.demo.write({"state": "test"})
        self.card = root.ref("payment.payment_method_card")
        self.demo.payment_method_ids |= self.card
        # Its journal (a computed field) creates its payment method line.
        assert self.demo.journal_id, "no bank journal for the demo provider"
        self.demo._ensure_payment_method_line()
        self.line = root["account.payment.method.line"].search(
            [("payment_provider_id", "=", self.demo.id), ("journal_id", "!=", False)],
            limit=1,
        )
        assert self.line, "the demo provider has no payment method line"
        self.product = bench_product(root, "APC-BENCH-DEBIT")
        if self.with_addon:
            # Only this benchmark's invoices are due (the webhook fixtures' are
            # debited already).
            due = root["account.move"].search_count(
                root["account.move"]._collection_get_debit_domain(datetime.date.today())
            )
            assert not due, f"{due} invoices of the database are due already"

    def add_invoices(self, count):
        """``count`` more due invoices, each of a new customer with a saved
        token of the demo provider (and paying automatically with it, with the
        add-on)."""
        t0 = time.perf_counter()
        root = self.root
        partners = make_partners(root, "APC-BENCH-DEBIT", len(self.all_moves), count)
        tokens = root["payment.token"].create(
            [
                {
                    "provider_id": self.demo.id,
                    "payment_method_id": self.card.id,
                    "partner_id": partner.id,
                    "payment_details": "4242",
                    "provider_ref": f"demo-bench-{partner.id}",
                    "demo_simulated_state": "done",
                }
                for partner in partners
            ]
        )
        for partner, token in zip(partners, tokens, strict=True):
            self.token_by_partner[partner.id] = token.id
            if self.with_addon:
                partner.with_context(tracking_disable=True).write(
                    {"collection_mode": "automatic", "collection_token_id": token.id}
                )
        moves = make_invoices(root, partners.ids, self.product)
        if self.with_addon:
            states = set(moves.mapped("collection_state"))
            assert states == {"scheduled"}, states
        self.moves |= moves
        self.all_moves |= moves
        self.create_seconds += time.perf_counter() - t0
        log(
            f"{root.cr.dbname}: {count} due invoices of customers with a token "
            f"created in {time.perf_counter() - t0:.0f} s"
        )
        return moves

    def create_rate(self):
        """Seconds to create one invoice with its customer and token."""
        return self.create_seconds / max(len(self.all_moves), 1)

    # ------------------------------------------------------------- sides

    def new_transaction(self):
        """What the commit ending an HTTP request or a run of the scheduler
        does, without the COMMIT itself: pending writes flushed, commit hooks
        (tracking messages) run. The next request or run then starts with a
        new ORM transaction (empty cache, no environments), as here."""
        cr = self.root.cr
        cr.flush()
        cr.flush()  # what the hooks wrote
        cr.transaction = odoo.api.Transaction(self.root.registry)

    def end_transactions(self):
        """Back to this benchmark's own ORM transaction, its cache emptied."""
        cr = self.root.cr
        cr.flush()
        cr.transaction = self.root.transaction
        self.root.invalidate_all()

    def job(self, moves):
        """The scheduled action as the scheduler runs it: each run (a batch of
        ``DEBIT_BATCH``) in its own transaction, until every invoice is
        debited."""
        cr = self.root.cr
        with Meter(self.root) as m:
            m.calls = m.sent = 0
            while m.sent < len(moves):
                assert m.calls < len(moves), "the due-date job does not progress"
                self.new_transaction()
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                sent = env["account.move"]._cron_collection_send_due(
                    batch_size=DEBIT_BATCH
                )
                m.calls += 1
                m.sent += sent
                if not sent:
                    break
            self.end_transactions()
        assert m.sent == len(moves), f"the job sent {m.sent} debits of {len(moves)}"
        Move = self.root["account.move"]
        left = Move.search_count(
            Move._collection_get_debit_domain(datetime.date.today())
        )
        assert not left, f"{left} invoices still due after the job"
        return m

    def register_payment(self, moves):
        """Odoo's way: Register Payment on each invoice with the customer's
        token and the demo provider's payment method (account_payment 18.0:
        the payment's ``action_post`` creates the transaction, sends the
        payment request, post-processes it and posts the payment; the wizard
        then reconciles it with the invoice), each invoice in its own
        transaction, as each click is its own HTTP request."""
        cr = self.root.cr
        uid, context = self.env.uid, dict(self.env.context)
        line_id, journal_id = self.line.id, self.line.journal_id.id
        items = [(move.id, self.token_by_partner[move.partner_id.id]) for move in moves]
        with Meter(self.root) as m:
            for move_id, token_id in items:
                self.new_transaction()
                env = odoo.api.Environment(cr, uid, context)
                env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=[move_id]
                ).create(
                    {
                        "journal_id": journal_id,
                        "payment_method_line_id": line_id,
                        "payment_token_id": token_id,
                    }
                ).action_create_payments()
            self.end_transactions()
        m.calls = len(moves)
        return m

    def check_paid(self, moves, side):
        """Every invoice is paid, exactly once: one transaction, done, with a
        posted payment, the only payment of the invoice's customer (one customer
        per invoice), and nothing left to pay."""
        self.root.flush_all()
        self.root.invalidate_all()
        cr = self.root.cr
        cr.execute(
            """
            SELECT m.id, count(t.id), count(t.id) FILTER (WHERE t.state = 'done'),
                   count(t.id) FILTER (WHERE p.state IN ('in_process', 'paid')),
                   (SELECT count(*) FROM account_payment pp
                     WHERE pp.partner_id = m.commercial_partner_id
                       AND pp.state NOT IN ('draft', 'canceled', 'rejected')),
                   m.amount_residual, m.payment_state
              FROM account_move m
         LEFT JOIN account_invoice_transaction_rel rt ON rt.invoice_id = m.id
         LEFT JOIN payment_transaction t ON t.id = rt.transaction_id
         LEFT JOIN account_payment p ON p.id = t.payment_id
             WHERE m.id IN %s
          GROUP BY m.id
            """,
            [tuple(moves.ids)],
        )
        rows = cr.fetchall()
        wrong = [
            row
            for row in rows
            if row[1:5] != (1, 1, 1, 1)
            or row[5] != 0
            or row[6] not in ("paid", "in_payment")
        ]
        assert len(rows) == len(moves) and not wrong, (
            f"{side}: {len(wrong)} invoices not paid exactly once, e.g. "
            "(id, transactions, done, with a payment, payments of the customer, "
            f"residual, state) {wrong[:3]}"
        )

    def run_side(self, side, moves):
        """One measure in a savepoint rolled back afterwards: the other side
        starts from the same invoices. The other invoices are taken out of the
        job's reach for this measure."""
        savepoint = self.root.cr.savepoint()
        try:
            others = self.all_moves - moves
            if others and self.with_addon:
                self.root.cr.execute(
                    SQL(
                        "UPDATE account_move SET collection_state = NULL"
                        " WHERE id IN %s",
                        tuple(others.ids),
                    )
                )
                self.root.invalidate_all()
            m = self.job(moves) if side == "job" else self.register_payment(moves)
            self.check_paid(moves, side)
            log(
                f"{self.root.cr.dbname}, {len(moves)} invoices: {side} "
                f"{m.seconds:.1f} s, "
                f"{m.queries:,} queries ({m.queries / len(moves):.2f} per invoice)"
            )
            return m
        finally:
            self.root.cr.transaction = self.root.transaction
            rollback_savepoint(self.root, savepoint)

    def warm_up(self, count=10):
        """Both paths once on a few invoices (templates, caches), not reported:
        their times give the first estimate of what a size costs."""
        warm = self.add_invoices(count)
        measured = {side: self.run_side(side, warm) for side in ("job", "core")}
        self.moves -= warm
        return {side: m.seconds / count for side, m in measured.items()}


def nice(number):
    """``number`` rounded down to a round size (1,234 -> 1,000; 487 -> 450)."""
    step = (
        500 if number >= 2000 else 100 if number >= 500 else 50 if number >= 100 else 10
    )
    return max(step, int(number // step * step))


def bench_job(env, t_start):
    """The due-date job vs Register Payment at each size, the sizes reduced (by
    the same factor) to what fits the budget, and Register Payment on the core
    database after the first size."""
    bench = DebitBench(env)
    bench.setup()
    rates = bench.warm_up()
    notes = []

    def needed(sizes, core_n):
        """Seconds the measures of ``sizes`` (and of the core database) take at
        the latest rates: the invoices to create, then both sides."""
        create = bench.create_rate()
        both = rates["job"] + rates["core"]
        more = max(0, max(sizes) - len(bench.moves)) * create
        core = core_n * (rates["core"] + create)
        return 1.15 * (sum(sizes) * both + more + core)

    def left():
        return DEBIT_BUDGET - (time.perf_counter() - t_start)

    sizes = list(DEBIT_SIZES)
    core_n = min(DEBIT_CORE_N, sizes[0])
    need = needed(sizes, core_n)
    if need > left():
        factor = max(left(), 0) / need
        planned = sorted({nice(size * factor) for size in sizes})
        core_n = min(DEBIT_CORE_N, planned[0])
        notes.append(
            f"Not measured at the issue's sizes ({', '.join(f'{n:,}' for n in sizes)} "
            f"invoices): at the rates of the warm-up they take about "
            f"{need / 60:.0f} min (creating and posting the invoices, then both "
            f"sides), beyond the budget of {DEBIT_BUDGET / 60:.0f} min for the "
            f"whole run (BENCH_DEBIT_BUDGET, {left() / 60:.0f} min left then): "
            f"{', '.join(f'{n:,}' for n in planned)} measured instead."
        )
        sizes = planned
    results = []
    core_ref = None
    for index, size in enumerate(sizes):
        if index:
            need = needed(sizes[index:], 0)
            if need > 1.2 * left():
                reduced = nice(size * max(left(), 0) / need)
                if reduced < 2 * results[-1]["size"]:
                    notes.append(
                        f"{size:,} invoices not measured: about {need / 60:.0f} min "
                        f"at the rates measured, {left() / 60:.0f} min left in the "
                        "budget."
                    )
                    break
                notes.append(
                    f"{size:,} invoices reduced to {reduced:,}: about "
                    f"{need / 60:.0f} min at the rates measured, {left() / 60:.0f} "
                    "min left in the budget."
                )
                size = reduced
        if len(bench.moves) < size:
            bench.add_invoices(size - len(bench.moves))
        moves = bench.moves[:size]
        bench.analyze()
        order = ("job", "core") if index % 2 == 0 else ("core", "job")
        measured = {side: bench.run_side(side, moves) for side in order}
        rates = {side: m.seconds / size for side, m in measured.items()}
        results.append({"size": size, **measured})
        if index == 0 and core_n:
            core_ref = bench_core_reference(core_n)
            threading.current_thread().dbname = env.cr.dbname
    return {
        "sizes": results,
        "notes": notes,
        "create_rate": bench.create_rate(),
        "core_ref": core_ref,
    }


def bench_core_reference(count):
    """Register Payment with the token on the core database (no add-on)."""
    threading.current_thread().dbname = CORE_DB
    with Registry(CORE_DB).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            bench = DebitBench(env, with_addon=False)
            bench.setup()
            warm = bench.add_invoices(4)
            bench.run_side("core", warm)
            bench.moves -= warm
            moves = bench.add_invoices(count)
            bench.analyze()
            return {"size": count, "core": bench.run_side("core", moves)}
        finally:
            cr.rollback()


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def report(webhooks, job, core_ref, dbname, machine):
    rows = []

    def row(label, a_t, c_t, a_q, c_q, fmt=ms, qfmt="{:,.2f}"):
        rows.append(
            f"| {label} | {fmt(a_t)} | {fmt(c_t)} | {ratio(a_t, c_t)} "
            f"| {qfmt.format(a_q)} | {qfmt.format(c_q)} | {a_q - c_q:+,.2f} |"
        )

    for s in job["sizes"]:
        n, a, c = s["size"], s["job"], s["core"]
        row(
            f"{n:,} due invoices of automatic customers (demo token answering at "
            f"once): due-date job vs Register Payment with the token, one invoice at "
            f"a time; per invoice",
            a.seconds / n, c.seconds / n, a.queries / n, c.queries / n,
        )  # fmt: skip
    by_key = {r["key"]: r for r in webhooks or []}
    if "gocardless" in by_key and "stripe_core" in by_key:
        g, s = by_key["gocardless"], by_key["stripe_core"]
        row(
            f"{g['events']:,} payment events, {WEBHOOK_WORKERS} workers: "
            f"GoCardless webhook ({g['requests']} batches of {WEBHOOK_BATCH}) vs "
            "Odoo's Stripe webhook route, core database (1 event per request); "
            "wall time per event",
            g["wall"] / g["events"], s["wall"] / s["events"],
            g["queries"] / g["events"], s["queries"] / s["events"],
        )  # fmt: skip
        row(
            "Same events: p99 latency per event (request latency / its events; "
            f"GoCardless: p99 of {g['requests']} requests)",
            g["p99_event"], s["p99_event"],
            g["queries"] / g["events"], s["queries"] / s["events"],
        )  # fmt: skip
    if "stripe_addon" in by_key and "stripe_core" in by_key:
        a, s = by_key["stripe_addon"], by_key["stripe_core"]
        row(
            f"Stripe webhook route, {a['events']:,} `payment_intent.succeeded`, "
            f"{WEBHOOK_WORKERS} workers: add-on database (its override: signature "
            f"checked first, event claimed once) vs core database; wall time per "
            f"event",
            a["wall"] / a["events"], s["wall"] / s["events"],
            a["queries"] / a["events"], s["queries"] / s["events"],
        )  # fmt: skip

    lines = [
        "",
        "## Automatic debits and webhooks (bench/bench_debits.py)",
        "",
        "| scenario | measured | reference | ratio | queries measured "
        "| queries reference | extra queries |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]

    # The job, at each size.
    lines += [
        "",
        f"Due-date job (`account.move._cron_collection_send_due(batch_size="
        f"{DEBIT_BATCH})`, the scheduled action's batch, called until every "
        "invoice is debited; superuser, like the scheduled action) vs Register "
        "Payment (`account.payment.register` with `active_model`/`active_ids` of "
        "one invoice, the demo provider's payment method line and the customer's "
        "`payment_token_id`, then `action_create_payments()`; as admin), on the "
        "same posted invoices, each side in a savepoint rolled back before the "
        "other (order alternated between the sizes). One customer per invoice, "
        "each with its own token of `payment_demo` (state `test`, "
        "`demo_simulated_state = done`: the provider answers at once, in the "
        "process). Queries include those Odoo runs at commit (tracking).",
        "",
        "| due invoices | job s | Register Payment s | job queries "
        "| Register Payment queries | job queries per invoice "
        "| Register Payment queries per invoice | ms per invoice (job / Register "
        "Payment) | job runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in job["sizes"]:
        n, a, c = s["size"], s["job"], s["core"]
        lines.append(
            f"| {n:,} | {a.seconds:.1f} | {c.seconds:.1f} | {a.queries:,} "
            f"| {c.queries:,} | {a.queries / n:.2f} | {c.queries / n:.2f} "
            f"| {a.seconds * 1000 / n:.1f} / {c.seconds * 1000 / n:.1f} | {a.calls} |"
        )
    first, last = job["sizes"][0], job["sizes"][-1]
    lines.append("")
    lines.append(
        "Every invoice ends paid exactly once on both sides (checked: one "
        "transaction, done, with a posted payment, the only payment of its "
        "customer, nothing left to pay)."
    )
    worst = max(s["job"].seconds / s["core"].seconds for s in job["sizes"])
    worst_q = max(s["job"].queries / s["core"].queries for s in job["sizes"])
    lines += [
        "",
        (
            f"The job costs at most {worst:.2f}x the time and {worst_q:.2f}x the "
            "queries of Register Payment per invoice: at most as costly, as "
            "expected."
        )
        if worst <= 1.05 and worst_q <= 1.0
        else (
            f"WARNING: the job costs up to {worst:.2f}x the time and "
            f"{worst_q:.2f}x the queries of Register Payment per invoice (expected: "
            "at most as costly)."
        ),
    ]
    if last is not first:
        n1, n2 = first["size"], last["size"]
        qa1, qa2 = first["job"].queries / n1, last["job"].queries / n2
        qc1, qc2 = first["core"].queries / n1, last["core"].queries / n2
        verdict = (
            "constant"
            if abs(qa2 - qa1) <= max(0.5, 0.02 * qa1)
            else "NOT constant (WARNING)"
        )
        lines += [
            "",
            f"From {n1:,} to {n2:,} invoices (x{n2 / n1:.1f}): time "
            f"x{last['job'].seconds / first['job'].seconds:.2f} job, "
            f"x{last['core'].seconds / first['core'].seconds:.2f} Register Payment; "
            f"queries x{last['job'].queries / first['job'].queries:.2f} job, "
            f"x{last['core'].queries / first['core'].queries:.2f} Register Payment. "
            f"Queries per invoice: job {qa1:.2f} → {qa2:.2f} ({verdict}), "
            f"Register Payment {qc1:.2f} → {qc2:.2f}.",
        ]
    for note in job["notes"]:
        lines += ["", note]
    target = max(DEBIT_SIZES)
    if last["size"] < target:
        n = last["size"]
        factor = target / n
        lines.append(
            f"Linear extrapolation from {n:,} invoices to {target:,}: job about "
            f"{last['job'].seconds * factor / 60:.0f} min and "
            f"{last['job'].queries * factor:,.0f} queries, Register Payment about "
            f"{last['core'].seconds * factor / 60:.0f} min and "
            f"{last['core'].queries * factor:,.0f} queries; creating and posting "
            f"the invoices (and their customers and tokens) alone about "
            f"{target * job['create_rate'] / 60:.0f} min."
        )
    if core_ref:
        n, c = core_ref["size"], core_ref["core"]
        same = first["core"]
        lines += [
            "",
            f"Reference without the add-on: Register Payment with the token on "
            f"{n:,} invoices of `{CORE_DB}` (the same modules without the add-on): "
            f"{c.seconds * 1000 / n:.1f} ms and {c.queries / n:.2f} queries per "
            f"invoice, vs {same.seconds * 1000 / first['size']:.1f} ms and "
            f"{same.queries / first['size']:.2f} in `{dbname}` (what the add-on adds "
            "to Odoo's own token charge).",
        ]

    # The webhooks.
    if webhooks:
        lines += [
            "",
            f"Webhooks: {WEBHOOK_WORKERS} client threads posting at once to an Odoo "
            "server per database (threaded, no cron) on 127.0.0.1; time and "
            "latencies measured by the client, queries and server time by the "
            "server (its werkzeug access log line).",
            "",
            "| endpoint | database | events / requests | events per second "
            "| latency per request p50 / p99 | p99 per event | queries per event "
            "| queries per request (min-max) | server ms per event "
            "| provider API calls | post-processing triggers | HTTP statuses "
            "| transactions after |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for r in webhooks:
            api = r["api_gocardless"] + r["api_stripe"]
            lines.append(
                f"| {r['label']} | `{r['db']}` | {r['events']:,} / {r['requests']:,} "
                f"| {r['eps']:.0f} | {ms(r['p50'])} / {ms(r['p99'])} "
                f"| {ms(r['p99_event'])} | {r['queries'] / r['events']:.1f} "
                f"| {r['q_range'][0]:,}-{r['q_range'][1]:,} "
                f"| {r['server_seconds'] * 1000 / r['events']:.1f} | {api:,} "
                f"| {r['triggers']:,} "
                f"| {', '.join(f'{k}: {v}' for k, v in sorted(r['statuses'].items()))} "
                f"| {', '.join(f'{k}: {v}' for k, v in sorted(r['states'].items()))} |"
            )
        gocardless = [r for r in webhooks if r["key"] == "gocardless"]
        if gocardless:
            g = gocardless[0]
            over = g["p99"] > GOCARDLESS_WEBHOOK_TIMEOUT
            lines += [
                "",
                f"{'WARNING: ' if over else ''}GoCardless counts a webhook not "
                f"answered with a 2xx within {GOCARDLESS_WEBHOOK_TIMEOUT} s as failed "
                f"and sends it again: here a request of {WEBHOOK_BATCH} events takes "
                f"{g['p50']:.1f} s (p50), {g['p99']:.1f} s (p99), with "
                f"{WEBHOOK_WORKERS} at once, and that with an API answering on the "
                f"loopback: each event fetches its payment from the API "
                f"({g['api_gocardless'] / g['events']:.1f} call per event, a new "
                "connection each), which the real API answers over the internet "
                "(TLS), so real batches take longer."
                + (
                    " The batches GoCardless sends (up to 250 events) are not "
                    "acknowledged in time."
                    if over
                    else ""
                ),
            ]
        lines += [
            "",
            f"GoCardless: `payments` `confirmed` events of pending debits (made by "
            f"the due-date job against the fake of the API), {WEBHOOK_BATCH} per "
            "request, signed like GoCardless (hex HMAC-SHA256 of the body in "
            "`Webhook-Signature`); the endpoint fetches each payment's current "
            "status from the API (`GET /payments/<id>`), answered by the fake of "
            "tests/fake_gocardless.py served by the benchmark process (the servers "
            "are started through `bench_debits.py --serve`, which routes the "
            "requests to GoCardless's and Stripe's hosts to the fakes, as the "
            "tests do; production code unchanged). Stripe: "
            "`payment_intent.succeeded` events of pending SEPA transactions (a "
            "`processing` PaymentIntent, one invoice each), one per request, "
            "signed with `stripe.WebhookSignature.generate_signature_header`; "
            "Odoo's route needs no API call for them. p99 per event = the 99th "
            "percentile of request latency divided by the events of the request "
            f"(with {webhooks[0]['requests']} GoCardless requests it is the "
            "slowest one; a GoCardless event is acknowledged with its batch). "
            f"Warm-up: {WEBHOOK_WARMUP} events per endpoint on transactions of "
            "their own. The transactions (and their invoices and customers) are "
            "committed once and reused: set back to pending before and after "
            "each run; this run's events and triggers are deleted afterwards.",
        ]
    lines += ["", machine]
    return "\n".join(lines)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        return serve(sys.argv[2:])
    config.parse_config(sys.argv[1:])
    dbname = config["db_name"]
    if isinstance(dbname, list):
        dbname = dbname[0]
    assert dbname, "usage: bench_debits.py --addons-path=... -d DB"
    # Stopped by SIGTERM: stop the servers started here and clean up.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    os.makedirs(RESULTS_DIR, exist_ok=True)
    t0 = time.perf_counter()
    ensure_databases(dbname)
    threading.current_thread().dbname = dbname
    # Nothing this process does may reach the providers' real APIs (the
    # webhook fixtures make their debits against the fake).
    route_provider_apis()
    webhooks = None
    if WEBHOOK:
        webhooks = bench_webhooks(dbname)
    threading.current_thread().dbname = dbname
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            job = bench_job(env, t0)
        finally:
            threading.current_thread().dbname = dbname
            cr.rollback()
        pg = cr.connection.server_version
    machine = (
        f"Machine: {os.cpu_count()} CPUs (nproc), Python {platform.python_version()}, "
        f"PostgreSQL {pg // 10000}.{pg % 10000}, Odoo {odoo.release.version}; "
        f"{datetime.date.today()}; bench_debits.py ran in "
        f"{time.perf_counter() - t0:.0f} s."
    )
    table = report(webhooks, job, job["core_ref"], dbname, machine)
    with open(OUT, "a", encoding="utf-8") as f:
        f.write(table + "\n")
    sys.stdout.write(table + "\n")
    sys.stdout.flush()
    log(f"bench_debits.py ran in {time.perf_counter() - t0:.0f} s; appended to {OUT}")


if __name__ == "__main__":
    main()
