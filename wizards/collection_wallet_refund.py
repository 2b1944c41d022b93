# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount


class CollectionWalletRefund(models.TransientModel):
    _name = "collection.wallet.refund"
    _description = "Refund of a Customer's Wallet"
    _check_company_auto = True

    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    balance = fields.Monetary(
        string="Wallet Balance",
        compute="_compute_balance",
        currency_field="currency_id",
    )
    amount = fields.Monetary(
        currency_field="currency_id",
        required=True,
        help="Paid back to the customer from their wallet; at most the wallet "
        "balance.",
    )
    journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Pay From",
        required=True,
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        default=lambda self: self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.env.company),
                ("type", "=", "bank"),
            ],
            order="sequence, id",
            limit=1,
        ),
    )
    payment_method_line_id = fields.Many2one(
        comodel_name="account.payment.method.line",
        string="Payment Method",
        compute="_compute_payment_method_line_id",
        store=True,
        readonly=False,
        domain="[('journal_id', '=', journal_id), ('payment_type', '=', 'outbound')]",
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    memo = fields.Char(
        default=lambda self: self.env._("Wallet refund"),
        help="The label of the refund payment.",
    )

    @api.depends("partner_id", "company_id")
    def _compute_balance(self):
        for wizard in self:
            wizard.balance = (
                wizard.partner_id._collection_get_wallet_balances(
                    wizard.company_id
                ).get(wizard.partner_id.commercial_partner_id.id, 0.0)
                if wizard.partner_id
                else 0.0
            )

    @api.depends("journal_id")
    def _compute_payment_method_line_id(self):
        for wizard in self:
            wizard.payment_method_line_id = (
                wizard.journal_id.outbound_payment_method_line_ids[:1]
            )

    @api.model_create_multi
    def create(self, vals_list):
        """Only accountants refund wallets, of the customers' commercial
        entities."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only accountants can refund a wallet."))
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
        return super().create(vals_list)

    def action_refund(self):
        """Book the refund: one posted outbound payment to the customer from the
        wallet account (the wallet is locked meanwhile and checked not to go
        below zero), logged on the customer.

        :raise UserError: the amount is zero, negative or above the balance, the
            company has no wallet account, the journal is not a bank or cash
            journal of the company
        """
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        company = self.company_id
        currency = company.currency_id
        account = company._collection_get_wallet_account()
        if not account:
            raise UserError(
                self.env._(
                    "%(company)s has no wallet account: choose one in the Invoicing "
                    "settings.",
                    company=company.name,
                )
            )
        if currency.compare_amounts(self.amount, 0.0) <= 0:
            raise UserError(
                self.env._("The amount to refund must be greater than zero.")
            )
        if self.journal_id.type not in ("bank", "cash"):
            raise UserError(
                self.env._("A wallet is refunded from a bank or cash journal.")
            )
        if not self.payment_method_line_id:
            raise UserError(
                self.env._(
                    "The journal %(journal)s has no outgoing payment method.",
                    journal=self.journal_id.display_name,
                )
            )
        partner._collection_lock_wallets()
        balance = partner._collection_get_wallet_balances(company).get(partner.id, 0.0)
        if currency.compare_amounts(self.amount, balance) > 0:
            raise UserError(
                self.env._(
                    "%(partner)s has %(balance)s in their wallet: %(amount)s cannot "
                    "be refunded.",
                    partner=partner.display_name,
                    balance=format_amount(self.env, balance, currency),
                    amount=format_amount(self.env, self.amount, currency),
                )
            )
        payment = (
            self.env["account.payment"]
            .with_company(company)
            .create(
                {
                    "payment_type": "outbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                    "amount": self.amount,
                    "currency_id": currency.id,
                    "date": self.date,
                    "journal_id": self.journal_id.id,
                    "payment_method_line_id": self.payment_method_line_id.id,
                    "destination_account_id": account.id,
                    "memo": self.memo or self.env._("Wallet refund"),
                }
            )
        )
        payment.action_post()
        partner._message_log(
            body=Markup(self.env._("Wallet refunded: %(amount)s (%(payment)s)."))
            % {
                "amount": format_amount(self.env, self.amount, currency),
                "payment": payment._get_html_link(),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.payment",
            "res_id": payment.id,
            "view_mode": "form",
            "target": "current",
        }
