# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.fields import Command
from odoo.tools import sql

from odoo.addons.payment import reset_payment_provider, setup_provider

_logger = logging.getLogger(__name__)


def pre_init_hook(env):
    """Create the stored computed columns of invoices empty, so that installing
    on a large database does not compute them for every invoice: no reminder
    was sent before the add-on existed."""
    for column, column_type in (
        ("collection_reminder_level_id", "int4"),
        ("collection_reminder_date", "date"),
        ("collection_paid_online", "bool"),
    ):
        if not sql.column_exists(env.cr, "account_move", column):
            sql.create_column(env.cr, "account_move", column, column_type)


def post_init_hook(env):
    """Give every existing company its offline payment methods (cheque, bank
    transfer and money order on the bank journal, cash on the cash journal) and
    its wallet account and journal, then complete the demo data if it was
    loaded."""
    env["res.company"].search([])._collection_ensure_offline_method_lines()
    env["res.company"].search([])._collection_ensure_wallet_setup()
    setup_provider(env, "gocardless")
    _set_default_fee_accounts(env)
    if env.ref("base.module_account_payment_collection").demo:
        _load_demo_invoices(env)


def uninstall_hook(env):
    """Reset the GoCardless providers, as Odoo's provider modules do."""
    reset_payment_provider(env, "gocardless")


# The demo's bank accounts: valid French IBANs (made up) and their banks.
DEMO_BANK_ACCOUNTS = {
    "main": ("FR76 3000 4012 3400 0123 4567 862", "BNP Paribas", "BNPAFRPP"),
    "second": ("FR76 3000 3019 8000 0502 1234 516", "Société Générale", "SOGEFRPP"),
    "res_partner_collection_transfer_demo": (
        "FR76 3006 6100 2100 0101 2345 644",
        "CIC",
        "CMCIFRPP",
    ),
    "res_partner_collection_automatic_demo": (
        "FR76 1027 8073 0000 0201 7890 108",
        "Crédit Mutuel",
        "CMCIFR2A",
    ),
}
DEMO_CUSTOMER_XMLIDS = (
    "res_partner_collection_cheque_demo",
    "res_partner_collection_transfer_demo",
    "res_partner_collection_transfer_contact_demo",
    "res_partner_collection_cash_demo",
    "res_partner_collection_money_order_demo",
    "res_partner_collection_automatic_demo",
    "res_partner_collection_second_company_demo",
)


def _demo_ref(env, name):
    return env.ref(f"account_payment_collection.{name}")


def _demo_bank_account(env, partner, key):
    """The partner's demo bank account ``key`` of `DEMO_BANK_ACCOUNTS`."""
    acc_number, bank_name, bic = DEMO_BANK_ACCOUNTS[key]
    Bank = env["res.bank"]
    bank = Bank.search([("bic", "=", bic)], limit=1) or Bank.create(
        {"name": bank_name, "bic": bic, "country": env.ref("base.fr").id}
    )
    return env["res.partner.bank"].create(
        {"acc_number": acc_number, "partner_id": partner.id, "bank_id": bank.id}
    )


def _load_demo_partners(env, company):
    """What the demo XML cannot say on any database: French for the French
    customers when French is loaded, l10n_fr's SIRET when it is installed, the
    bank accounts (the company's on its bank journal, so that transfer
    instructions print an IBAN and a BIC)."""
    customers = env["res.partner"].browse(
        [_demo_ref(env, xmlid).id for xmlid in DEMO_CUSTOMER_XMLIDS]
    )
    portal_partner = env.ref("base.partner_demo_portal", raise_if_not_found=False)
    if env["res.lang"]._lang_get("fr_FR"):
        (customers | (portal_partner or customers.browse())).write({"lang": "fr_FR"})
        product = _demo_ref(env, "product_collection_service_demo").product_tmpl_id
        product.update_field_translations("name", {"fr_FR": "Maintenance mensuelle"})
    if "siret" in customers._fields:
        for customer in customers.filtered("company_registry"):
            customer.siret = customer.company_registry
    for xmlid in (
        "res_partner_collection_transfer_demo",
        "res_partner_collection_automatic_demo",
    ):
        _demo_bank_account(env, _demo_ref(env, xmlid), xmlid)
    bank_journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")],
        order="sequence, id",
        limit=1,
    )
    if bank_journal and not bank_journal.bank_account_id:
        bank_journal.bank_account_id = _demo_bank_account(
            env, company.partner_id, "main"
        )


def _load_demo_invoices(env):
    """Demo invoices in every state for the demo customers, the automatic
    customer's saved card when the demo payment provider is installed, and a
    second company with settings of its own."""
    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    _load_demo_partners(env, company)
    product = _demo_ref(env, "product_collection_service_demo")
    today = fields.Date.context_today(env["res.partner"])

    def invoice(xmlid, days_ago, quantity=1.0):
        partner = _demo_ref(env, xmlid)
        return _demo_invoice(env, partner, product, today, days_ago, quantity)

    def register(move, amount=None):
        vals = {"amount": amount} if amount else {}
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create(vals).action_create_payments()

    # Boulangerie Martin (cheque; its manager Claire Martin is the portal user).
    invoice("res_partner_collection_cheque_demo", 5)  # draft
    invoice("res_partner_collection_cheque_demo", 10).action_post()  # not due yet
    invoice("res_partner_collection_cheque_demo", 45, 2).action_post()  # overdue
    invoice("res_partner_collection_cheque_demo", 38, 3).action_post()  # overdue
    # Atelier Dupont (transfer): paid, partially paid.
    paid = invoice("res_partner_collection_transfer_demo", 40)
    paid.action_post()
    register(paid)
    partial = invoice("res_partner_collection_transfer_demo", 35, 4)
    partial.action_post()
    register(partial, amount=300.0)
    # Café du Marché (cash): open, cancelled.
    invoice("res_partner_collection_cash_demo", 2).action_post()
    cancelled = invoice("res_partner_collection_cash_demo", 20)
    cancelled.action_post()
    cancelled.button_cancel()
    # Les Amis du Vélo (money order): open, overdue (in a proposed plan below).
    invoice("res_partner_collection_money_order_demo", 15).action_post()
    invoice("res_partner_collection_money_order_demo", 50, 2).action_post()
    _load_demo_plans(env, today)
    _load_demo_automatic(env, company, invoice)
    _load_demo_second_company(env, company, product, today)


def _demo_invoice(env, partner, product, today, days_ago, quantity=1.0):
    """A draft invoice of ``quantity`` x ``product`` dated ``days_ago`` days ago,
    due 30 days after."""
    return env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": today - relativedelta(days=days_ago),
            "invoice_date_due": today - relativedelta(days=days_ago - 30),
            "invoice_line_ids": [
                Command.create({"product_id": product.id, "quantity": quantity})
            ],
        }
    )


def _load_demo_automatic(env, company, invoice):
    """Librairie Moreau pays automatically with a demo card: one invoice
    scheduled for debit, one debited (paid)."""
    provider = env["payment.provider"].search(
        [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
    )
    if not provider:
        _logger.info("payment_demo not installed: no automatic demo customer")
        return
    if provider.state == "disabled":
        provider.state = "test"
    partner = _demo_ref(env, "res_partner_collection_automatic_demo")
    token = env["payment.token"].create(
        {
            "provider_id": provider.id,
            "payment_method_id": env.ref("payment.payment_method_card").id,
            "partner_id": partner.id,
            "payment_details": "4242",
            "provider_ref": "demo-collection-token",
            "demo_simulated_state": "done",
        }
    )
    partner.write({"collection_mode": "automatic", "collection_token_id": token.id})
    invoice("res_partner_collection_automatic_demo", 3).action_post()  # scheduled
    collected = invoice("res_partner_collection_automatic_demo", 31)
    collected.action_post()
    env["account.move"]._cron_collection_send_due()  # debits the due one


def _load_demo_plans(env, today):
    """Payment plans: Les Amis du Vélo's proposal waiting for review, and the
    active weekly plan of Boulangerie Martin, whose manager is the demo portal
    user (login portal / portal), next to open invoices she can propose a plan
    for."""
    company = env.ref("base.main_company")
    company.collection_allow_plan_proposal = True
    Plan = env["collection.plan"]
    values = {"reason": "", "day_of_month": 10}

    def oldest_open(xmlid):
        return env["account.move"].search(
            [
                ("partner_id", "=", _demo_ref(env, xmlid).id),
                ("state", "=", "posted"),
                ("payment_state", "=", "not_paid"),
            ],
            order="invoice_date",
            limit=1,
        )

    proposed = oldest_open("res_partner_collection_money_order_demo")
    Plan._create_proposal(
        proposed.partner_id,
        proposed,
        dict(
            values,
            plan_kind="monthly",
            installment_count=3,
            first_date=today + relativedelta(days=5),
            reason="Subvention de la mairie attendue en fin de trimestre",
        ),
    )
    active = oldest_open("res_partner_collection_cheque_demo")
    Plan._create_proposal(
        active.partner_id,
        active,
        dict(
            values,
            plan_kind="weekly",
            installment_count=4,
            first_date=today + relativedelta(days=2),
        ),
    ).action_approve()


def _load_demo_second_company(env, main_company, product, today):
    """A second company, with its chart of accounts (the main company's), its
    own cheque payee and address, its own reminder levels (10, 30 and 60 days)
    and a customer paying by cheque with an overdue invoice."""
    Company = env["res.company"]
    # partner_autocomplete would ask its online service about the new company.
    no_enrich = (
        {"iap_enrich_auto_done": True}
        if "iap_enrich_auto_done" in Company._fields
        else {}
    )
    company = Company.create(
        {
            **no_enrich,
            "name": "Lefèvre Provence SARL",
            "street": "15 rue de la République",
            "zip": "13002",
            "city": "Marseille",
            "country_id": env.ref("base.fr").id,
            "currency_id": main_company.currency_id.id,
            "email": "compta@lefevre-provence.example.com",
            "phone": "+33 4 91 00 11 22",
            "vat": "FR16302466339",
            "company_registry": "30246633900017",
            "collection_cheque_payee": "Lefèvre Provence",
            "collection_cheque_address": (
                "Lefèvre Provence - Service comptabilité\nBP 2051\n"
                "13203 Marseille Cedex 01"
            ),
            "collection_money_order_payee": "Lefèvre Provence",
        }
    )
    env.ref("base.user_admin").company_ids = [Command.link(company.id)]
    # The registry is still loading: `_load` rather than `try_loading`, which
    # would warn about it (the chart's module is installed already).
    env["account.chart.template"]._load(
        main_company.chart_template or "generic_coa", company, install_demo=False
    )
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    company = company.with_env(env)
    _demo_bank_account(env, company.partner_id, "second")
    bank_journal = env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")],
        order="sequence, id",
        limit=1,
    )
    bank_journal.bank_account_id = company.partner_id.bank_ids[:1]
    levels = env["collection.reminder.level"].search(
        [("company_id", "=", company.id)], order="days_after_due, id"
    )
    for level, days in zip(levels, (10, 30, 60), strict=False):
        level.days_after_due = days
    company._collection_ensure_offline_method_lines()
    cheque_line = env["account.payment.method.line"].search(
        [("company_id", "=", company.id), ("offline_payment_type", "=", "cheque")],
        limit=1,
    )
    partner = _demo_ref(env, "res_partner_collection_second_company_demo")
    partner.with_company(company).write(
        {
            "collection_mode": "offline",
            "property_inbound_payment_method_line_id": cheque_line.id,
        }
    )
    _demo_invoice(env, partner, product, today, 40, 2).action_post()
    _demo_invoice(env, partner, product, today, 6).action_post()


def _set_default_fee_accounts(env):
    """Give every payment provider without one the default commission account
    of its company (627800 in the French chart, else one the add-on creates).
    Safe to call again (a migration of an existing database may call it)."""
    env["payment.provider"].search(
        [("collection_fee_account_id", "=", False)]
    )._collection_set_default_fee_account()
