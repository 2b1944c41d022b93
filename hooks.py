# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.fields import Command
from odoo.tools import sql

_logger = logging.getLogger(__name__)


def pre_init_hook(env):
    """Create the stored computed columns of invoices empty, so that installing
    on a large database does not compute them for every invoice: no reminder
    was sent before the add-on existed."""
    for column, column_type in (
        ("collection_reminder_level_id", "int4"),
        ("collection_reminder_date", "date"),
    ):
        if not sql.column_exists(env.cr, "account_move", column):
            sql.create_column(env.cr, "account_move", column, column_type)


def post_init_hook(env):
    """Give every existing company its offline payment methods (cheque, bank
    transfer and money order on the bank journal, cash on the cash journal), then
    complete the demo data if it was loaded."""
    env["res.company"].search([])._collection_ensure_offline_method_lines()
    if env.ref("base.module_account_payment_collection").demo:
        _load_demo_invoices(env)


def _load_demo_invoices(env):
    """Demo invoices in every state for the demo customers, and the automatic
    customer's saved card when the demo payment provider is installed."""
    company = env.ref("base.main_company")
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    product = env.ref("account_payment_collection.product_collection_service_demo")
    today = fields.Date.context_today(env["res.partner"])

    def invoice(xmlid, days_ago, quantity=1.0):
        partner = env.ref(f"account_payment_collection.{xmlid}")
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

    def register(move, amount=None):
        vals = {"amount": amount} if amount else {}
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create(vals).action_create_payments()

    invoice("res_partner_collection_cheque_demo", 5)  # draft
    invoice("res_partner_collection_cheque_demo", 10).action_post()  # not due yet
    invoice("res_partner_collection_cheque_demo", 45, 2).action_post()  # overdue
    paid = invoice("res_partner_collection_transfer_demo", 40)
    paid.action_post()
    register(paid)
    partial = invoice("res_partner_collection_transfer_demo", 35, 4)
    partial.action_post()
    register(partial, amount=300.0)
    invoice("res_partner_collection_cash_demo", 2).action_post()
    cancelled = invoice("res_partner_collection_cash_demo", 20)
    cancelled.action_post()
    cancelled.button_cancel()
    invoice("res_partner_collection_money_order_demo", 15).action_post()
    _load_demo_plans(env, invoice, today)

    provider = env["payment.provider"].search(
        [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
    )
    if not provider:
        _logger.info("payment_demo not installed: no automatic demo customer")
        return
    if provider.state == "disabled":
        provider.state = "test"
    partner = env.ref(
        "account_payment_collection.res_partner_collection_automatic_demo"
    )
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


def _load_demo_plans(env, invoice, today):
    """Payment plans: one waiting for review, and the demo portal customer's
    active plan (login portal / portal) next to an invoice they can propose a
    plan for."""
    company = env.ref("base.main_company")
    company.collection_allow_plan_proposal = True
    Plan = env["collection.plan"]
    values = {"reason": "", "day_of_month": 10}
    overdue = env["account.move"].search(
        [
            (
                "partner_id",
                "=",
                env.ref(
                    "account_payment_collection.res_partner_collection_cheque_demo"
                ).id,
            ),
            ("state", "=", "posted"),
            ("payment_state", "=", "not_paid"),
        ],
        order="invoice_date",
        limit=1,
    )
    Plan._create_proposal(
        overdue.partner_id,
        overdue,
        dict(
            values,
            plan_kind="monthly",
            installment_count=3,
            first_date=today + relativedelta(days=5),
        ),
    )
    portal_partner = env.ref("base.partner_demo_portal", raise_if_not_found=False)
    if not portal_partner:
        return
    portal_partner = portal_partner.commercial_partner_id
    cheque_line = env["account.payment.method.line"].search(
        [("offline_payment_type", "=", "cheque"), ("company_id", "=", company.id)],
        limit=1,
    )
    portal_partner.write(
        {
            "collection_mode": "offline",
            "property_inbound_payment_method_line_id": cheque_line.id,
        }
    )
    for days_ago, quantity in ((12, 3), (40, 2), (8, 1)):
        move = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": portal_partner.id,
                "invoice_date": today - relativedelta(days=days_ago),
                "invoice_date_due": today - relativedelta(days=days_ago - 30),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": env.ref(
                                "account_payment_collection.product_collection_service_demo"
                            ).id,
                            "quantity": quantity,
                        }
                    )
                ],
            }
        )
        move.action_post()
    planned = env["account.move"].search(
        [("partner_id", "=", portal_partner.id), ("state", "=", "posted")],
        order="invoice_date",
        limit=1,
    )
    Plan._create_proposal(
        portal_partner,
        planned,
        dict(
            values,
            plan_kind="weekly",
            installment_count=4,
            first_date=today + relativedelta(days=2),
        ),
    ).action_approve()
