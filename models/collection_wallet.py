# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customers' wallets ("cagnottes"): read from the ledger, never kept in a
counter.

A wallet is the customer's share of their company's wallet account
(`res.company.collection_wallet_account_id`): top-ups credit it, payments of
invoices and refunds debit it, and the balance is minus the sum of the posted
journal items of the customer on it. Whatever posts or resets an entry touching
a wallet account locks the customers concerned and checks that none of their
balances goes below zero.
"""

import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import SQL, format_amount
from odoo.tools.sql import create_index

from ..const import COLLECTION_IN_FLIGHT_STATES

_logger = logging.getLogger(__name__)

# French charts' "Clients - Avances et acomptes reçus sur commandes".
WALLET_ACCOUNT_TEMPLATE_XMLID = "pcg_4191"
# The fields of journal items that make up a wallet balance.
WALLET_LINE_FIELDS = (
    "account_id",
    "balance",
    "company_id",
    "journal_id",
    "parent_state",
    "partner_id",
)


class ResCompany(models.Model):
    _inherit = "res.company"

    collection_wallet_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Wallet Account",
        domain="[('account_type', 'in',"
        " ('liability_current', 'liability_non_current')),"
        " ('deprecated', '=', False)]",
        help="The account of the customers' wallets: top-ups are credited to it, "
        "invoices paid from a wallet and wallet refunds are debited from it, each "
        "journal item with its customer. A customer's balance is read from the "
        "posted journal items of this account.",
    )
    collection_wallet_journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Wallet Journal",
        domain="[('type', '=', 'general')]",
        help="The journal of the entries paying invoices from a wallet. Empty: the "
        "company's first miscellaneous journal.",
    )

    @api.constrains("collection_wallet_account_id")
    def _check_collection_wallet_account(self):
        for company in self:
            account = company.collection_wallet_account_id
            if not account:
                continue
            if account.account_type in ("asset_receivable", "liability_payable"):
                raise ValidationError(
                    self.env._(
                        "The wallet account of %(company)s cannot be a receivable or "
                        "payable account (%(account)s): wallets would mix with what "
                        "customers owe.",
                        company=company.name,
                        account=account.display_name,
                    )
                )
            if company.root_id not in account.company_ids.root_id:
                raise ValidationError(
                    self.env._(
                        "The wallet account %(account)s does not belong to "
                        "%(company)s.",
                        account=account.display_name,
                        company=company.name,
                    )
                )

    def write(self, vals):
        """Override of `base`: the wallet account is not changed while customers
        have a balance on it (their wallets would vanish)."""
        if vals.get("collection_wallet_account_id"):
            for company in self:
                old = company.collection_wallet_account_id
                if old and old.id != vals["collection_wallet_account_id"]:
                    company._collection_check_no_wallet_balance(old)
        return super().write(vals)

    def _collection_check_no_wallet_balance(self, account):
        self.ensure_one()
        self.env["account.move.line"].flush_model(WALLET_LINE_FIELDS)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT 1
                  FROM account_move_line
                 WHERE account_id = %(account)s
                   AND company_id = %(company)s
                   AND parent_state = 'posted'
                   AND journal_id NOT IN (
                       SELECT id FROM account_journal WHERE type IN ('sale', 'purchase')
                   )
                 GROUP BY partner_id
                HAVING SUM(balance) != 0
                 LIMIT 1
                """,
                account=account.id,
                company=self.id,
            )
        )
        if rows:
            raise UserError(
                self.env._(
                    "Customers of %(company)s have a wallet balance on %(account)s: "
                    "refund or spend their wallets before choosing another wallet "
                    "account.",
                    company=self.name,
                    account=account.display_name,
                )
            )

    def _collection_get_wallet_account(self):
        """The wallet account of this company (its root company's for a branch,
        which shares its chart), or an empty recordset."""
        self.ensure_one()
        for company in (self, *reversed(self.parent_ids - self)):
            if company.collection_wallet_account_id:
                return company.collection_wallet_account_id
        return self.env["account.account"]

    def _collection_get_wallet_journal(self):
        """The journal of the wallet payments: the chosen one, else the first
        miscellaneous journal of the company.

        :raise UserError: the company has no miscellaneous journal
        """
        self.ensure_one()
        journal = self.collection_wallet_journal_id or self.env[
            "account.journal"
        ].sudo().search(
            [
                *self.env["account.journal"]._check_company_domain(self),
                ("type", "=", "general"),
            ],
            order="sequence, id",
            limit=1,
        )
        if not journal:
            raise UserError(
                self.env._(
                    "%(company)s has no miscellaneous journal for the wallet "
                    "payments: choose one in the Invoicing settings.",
                    company=self.name,
                )
            )
        return journal

    def _collection_ensure_wallet_setup(self):
        """Give the companies without a wallet account one: the chart's 4191
        "Clients - avances et acomptes reçus" where the chart has it, else a new
        current liability account "Customer Wallets" next to the chart's current
        liabilities; and the miscellaneous journal of the chart as wallet
        journal. Safe to call again; branches use their root company's."""
        ChartTemplate = self.env["account.chart.template"].sudo()
        for company in self.sudo():
            if company.parent_id or not company.chart_template:
                continue
            chart = ChartTemplate.with_company(company)
            values = {}
            if not company.collection_wallet_account_id:
                values["collection_wallet_account_id"] = (
                    chart.ref(WALLET_ACCOUNT_TEMPLATE_XMLID, raise_if_not_found=False)
                    or company._collection_create_wallet_account()
                ).id
            if not company.collection_wallet_journal_id:
                journal = chart.ref("general", raise_if_not_found=False)
                if journal:
                    values["collection_wallet_journal_id"] = journal.id
            if values:
                company.write(values)

    def _collection_create_wallet_account(self):
        """Create the "Customer Wallets" account of this company, with a code in
        the format of its chart (after its first current liability account),
        named in every installed language."""
        self.ensure_one()
        Account = self.env["account.account"].sudo().with_company(self)
        first_liability = Account.search(
            [
                *Account._check_company_domain(self),
                ("account_type", "=", "liability_current"),
            ],
            order="code",
            limit=1,
        )
        code = Account._search_new_account_code(first_liability.code or "4190")
        account = Account.with_context(lang="en_US").create(
            {
                "name": "Customer Wallets",
                "code": code,
                "account_type": "liability_current",
                "reconcile": False,
                "company_ids": [Command.set(self.ids)],
            }
        )
        translations = {
            lang: self.with_context(lang=lang).env._("Customer Wallets")
            for lang, _name in self.env["res.lang"].get_installed()
            if lang != "en_US"
        }
        if translations:
            account.update_field_translations("name", translations)
        _logger.info("wallet account %s created for company %s", account.code, self.id)
        return account


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    collection_wallet_account_id = fields.Many2one(
        related="company_id.collection_wallet_account_id",
        readonly=False,
        domain="[('company_ids', 'parent_of', company_id),"
        " ('account_type', 'in', ('liability_current', 'liability_non_current')),"
        " ('deprecated', '=', False)]",
    )
    collection_wallet_journal_id = fields.Many2one(
        related="company_id.collection_wallet_journal_id",
        readonly=False,
        domain="[('company_id', '=', company_id), ('type', '=', 'general')]",
    )


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_wallet_currency_id = fields.Many2one(
        comodel_name="res.currency",
        string="Wallet Currency",
        compute="_compute_collection_wallet_currency_id",
    )
    collection_wallet_balance = fields.Monetary(
        string="Wallet Balance",
        currency_field="collection_wallet_currency_id",
        compute="_compute_collection_wallet_balance",
        help="What the customer has in their wallet in the current company: the "
        "top-ups minus what was spent or refunded, read from the posted journal "
        "items of the company's wallet account (the customer's and their "
        "contacts').",
    )

    @api.depends_context("company")
    def _compute_collection_wallet_currency_id(self):
        self.collection_wallet_currency_id = self.env.company.currency_id

    @api.depends_context("company")
    def _compute_collection_wallet_balance(self):
        balances = self._collection_get_wallet_balances(self.env.company)
        for partner in self:
            partner.collection_wallet_balance = balances.get(
                partner._origin.commercial_partner_id.id, 0.0
            )

    def _collection_get_wallet_balances(self, company):
        """The wallet balances of the commercial entities of these partners in
        ``company``, in one query (index ``account_move_line_collection_wallet_idx``).

        :param company: the company (``res.company``) of the wallets
        :return: ``{commercial partner id: balance}``, the partners without any
            wallet item left out
        :rtype: dict
        """
        account = company._collection_get_wallet_account()
        commercial_ids = tuple(
            {pid for pid in self._origin.commercial_partner_id.ids if pid}
        )
        if not account or not commercial_ids:
            return {}
        self.env["account.move.line"].flush_model(WALLET_LINE_FIELDS)
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        return dict(
            self.env.execute_query(
                self._collection_get_wallet_balances_query(company, commercial_ids)
            )
        )

    @api.model
    def _collection_get_wallet_balances_query(self, company, commercial_ids):
        """The query of `_collection_get_wallet_balances` (the benchmark
        explains it).

        :param company: the company (``res.company``) of the wallets
        :param tuple commercial_ids: ids of commercial partners
        :rtype: SQL
        """
        return SQL(
            """
            SELECT partner.commercial_partner_id, -SUM(line.balance)
              FROM account_move_line line
              JOIN res_partner partner ON partner.id = line.partner_id
             WHERE line.account_id = %(account)s
               AND line.company_id = %(company)s
               AND line.parent_state = 'posted'
               AND line.journal_id NOT IN (
                   SELECT id FROM account_journal WHERE type IN ('sale', 'purchase')
               )
               AND partner.commercial_partner_id IN %(partners)s
             GROUP BY partner.commercial_partner_id
            """,
            account=company._collection_get_wallet_account().id,
            company=company.id,
            partners=tuple(commercial_ids),
        )

    def _collection_get_wallet_history(self, company, limit=None, offset=0):
        """The wallet's journal items of this customer in ``company``, newest
        first, each with the balance after it, in one query.

        :return: ``(items, count)``: ``items`` a list of ``(journal item (sudo),
            balance after it)``, ``count`` the number of items in the wallet
        :rtype: tuple
        """
        self.ensure_one()
        account = company._collection_get_wallet_account()
        if not account:
            return [], 0
        self.env["account.move.line"].flush_model([*WALLET_LINE_FIELDS, "date"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT id, running, total
                  FROM (
                    SELECT line.id, line.date,
                           -SUM(line.balance) OVER (
                               ORDER BY line.date, line.id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                           ) AS running,
                           COUNT(*) OVER () AS total
                      FROM account_move_line line
                      JOIN res_partner partner ON partner.id = line.partner_id
                     WHERE line.account_id = %(account)s
                       AND line.company_id = %(company)s
                       AND line.parent_state = 'posted'
                       AND line.journal_id NOT IN (
                   SELECT id FROM account_journal WHERE type IN ('sale', 'purchase')
               )
                       AND partner.commercial_partner_id = %(partner)s
                  ) history
                 ORDER BY date DESC, id DESC
                 LIMIT %(limit)s OFFSET %(offset)s
                """,
                account=account.id,
                company=company.id,
                partner=self.commercial_partner_id.id,
                limit=limit,
                offset=offset,
            )
        )
        Line = self.env["account.move.line"].sudo()
        items = [(Line.browse(line_id), running) for line_id, running, _total in rows]
        if rows:
            count = rows[0][2]
        elif offset:
            count = len(self._collection_get_wallet_history(company, limit=1)[0])
        else:
            count = 0
        return items, count

    def _collection_lock_wallets(self):
        """Serialise the wallet operations of these customers: lock their
        commercial entities' rows and mark them updated, so that another
        transaction that read the wallet before this one commits waits for the
        lock, then fails to serialise (and is replayed by Odoo's HTTP layer and
        jobs) instead of spending the same balance from its older snapshot."""
        commercial_ids = sorted({pid for pid in self.commercial_partner_id.ids if pid})
        if not commercial_ids:
            return
        self.env.execute_query(
            SQL(
                "SELECT id FROM res_partner WHERE id IN %s ORDER BY id"
                " FOR NO KEY UPDATE",
                tuple(commercial_ids),
            )
        )
        # A real update (the lock alone does not make the other transaction
        # fail to serialise): the write date is rewritten unchanged.
        self.env.execute_query(
            SQL(
                "UPDATE res_partner SET write_date = write_date WHERE id IN %s",
                tuple(commercial_ids),
            )
        )

    def _collection_check_wallets_not_negative(self, company):
        """Lock these customers' wallets in ``company`` and check that none is
        below zero.

        :raise ValidationError: a wallet is below zero, naming its customer and
            its balance
        """
        partners = self.commercial_partner_id
        if not partners:
            return
        partners._collection_lock_wallets()
        balances = partners._collection_get_wallet_balances(company)
        currency = company.currency_id
        for partner in partners.sorted("id"):
            balance = balances.get(partner.id, 0.0)
            if currency.compare_amounts(balance, 0.0) < 0:
                raise ValidationError(
                    self.env._(
                        "The wallet of %(partner)s cannot go below zero: this "
                        "operation would leave it at %(balance)s.",
                        partner=partner.display_name,
                        balance=format_amount(self.env, balance, currency),
                    )
                )

    def action_collection_view_wallet(self):
        """The wallet's history of this customer in the current company: its
        posted journal items on the wallet account, newest first, with the
        balance after each."""
        self.ensure_one()
        partner = self.commercial_partner_id
        company = self.env.company
        account = company._collection_get_wallet_account()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_collection.collection_wallet_line_action"
        )
        action["display_name"] = self.env._(
            "Wallet of %(partner)s", partner=partner.display_name
        )
        action["domain"] = [
            ("account_id", "=", account.id),
            ("company_id", "=", company.id),
            ("parent_state", "=", "posted"),
            ("journal_id.type", "not in", ("sale", "purchase")),
            ("partner_id", "child_of", partner.id),
        ]
        action["context"] = {}
        return action

    def action_collection_refund_wallet(self):
        """Open the wallet refund wizard for this customer."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Refund Wallet"),
            "res_model": "collection.wallet.refund",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_can_pay_with_wallet = fields.Boolean(
        string="Can Be Paid with the Wallet",
        compute="_compute_collection_can_pay_with_wallet",
        help="The customer has a wallet balance and this invoice can be paid from "
        "it now: a posted customer invoice, open, not on hold, in the company's "
        "currency.",
    )

    @api.depends(
        "move_type",
        "state",
        "payment_state",
        "currency_id",
        "collection_block_reason",
        "collection_state",
        "amount_residual",
    )
    def _compute_collection_can_pay_with_wallet(self):
        candidates = self.filtered(
            lambda move: move.id and not move._collection_get_wallet_refusal()
        )
        self.collection_can_pay_with_wallet = False
        for company, moves in candidates.grouped("company_id").items():
            balances = moves.commercial_partner_id._collection_get_wallet_balances(
                company
            )
            for move in moves:
                move.collection_can_pay_with_wallet = (
                    company.currency_id.compare_amounts(
                        balances.get(move.commercial_partner_id.id, 0.0), 0.0
                    )
                    > 0
                )

    def write(self, vals):
        """Override of `account`: posting, resetting to draft or cancelling an
        entry touching a wallet account checks that no wallet goes below zero
        and that each of its wallet items has a customer."""
        if "state" not in vals:
            return super().write(vals)
        wallet_moves = self._collection_filter_wallet_moves()
        states_before = {move.id: move.state for move in wallet_moves}
        res = super().write(vals)
        if wallet_moves:
            wallet_moves._collection_check_wallets(states_before)
        return res

    def _collection_get_wallet_lines(self):
        """The journal items of these entries on their company's wallet
        account."""
        accounts = {
            company.id: company._collection_get_wallet_account().id
            for company in self.company_id
        }
        return self.line_ids.filtered(
            lambda line: line.account_id.id
            and line.account_id.id == accounts.get(line.company_id.id)
            and line.journal_id.type not in ("sale", "purchase")
        )

    def _collection_filter_wallet_moves(self):
        return self._collection_get_wallet_lines().move_id

    def _collection_check_wallets(self, states_before):
        """After these entries changed state: their wallet items must have a
        customer, and the wallets they took from (items debited by a posting,
        credited by a reset or cancellation) must not be below zero.

        :param dict states_before: ``{move id: state before}``
        :raise ValidationError: a wallet item without a customer, a wallet below
            zero
        """
        to_check = {}
        for line in self._collection_get_wallet_lines():
            move = line.move_id
            was_posted = states_before.get(move.id) == "posted"
            is_posted = move.state == "posted"
            if is_posted and not line.partner_id:
                raise ValidationError(
                    self.env._(
                        "The journal item %(label)s of %(entry)s is on the wallet "
                        "account %(account)s without a customer: every wallet item "
                        "belongs to a customer's wallet.",
                        label=line.name or "",
                        entry=move.display_name,
                        account=line.account_id.display_name,
                    )
                )
            takes = (is_posted and not was_posted and line.balance > 0) or (
                was_posted and not is_posted and line.balance < 0
            )
            if takes and line.partner_id:
                to_check.setdefault(line.company_id, self.env["res.partner"])
                to_check[line.company_id] |= line.partner_id
        for company, partners in to_check.items():
            partners._collection_check_wallets_not_negative(company)

    def _collection_get_wallet_refusal(self):
        """Why this invoice cannot be paid from its customer's wallet now
        (whatever the balance), or ``False``."""
        self.ensure_one()
        if self.move_type != "out_invoice":
            return self.env._("only customer invoices are paid from a wallet")
        if self.state != "posted":
            return self.env._("it is not posted")
        if not self._collection_is_open():
            return self.env._("it is paid")
        if self.collection_block_reason:
            return self.env._(
                "it is on hold (%(reason)s)",
                reason=dict(self._selection_collection_block_reason())[
                    self.collection_block_reason
                ],
            )
        if self.currency_id != self.company_id.currency_id:
            return self.env._(
                "it is in %(currency)s, the wallet in %(company_currency)s",
                currency=self.currency_id.name,
                company_currency=self.company_id.currency_id.name,
            )
        if self.collection_state in COLLECTION_IN_FLIGHT_STATES:
            return self.env._("an automatic debit of it is in progress")
        if not self.company_id._collection_get_wallet_account():
            return self.env._(
                "%(company)s has no wallet account", company=self.company_id.name
            )
        return False

    def action_collection_pay_with_wallet(self):
        """Pay these invoices from their customers' wallets, at once: for each,
        what the wallet holds, at most the amount due, by one posted entry
        (wallet account debited, the invoice's receivable credited) reconciled
        with the invoice, logged in its chatter. The customer's wallet is locked
        meanwhile: two clicks, or two tabs, never spend the same balance twice.

        :raise UserError: the invoice is not a posted open customer invoice, is
            on hold, in another currency, or the wallet is empty
        """
        if not self.env.su and not self.env.user.has_group(
            "account.group_account_invoice"
        ):
            raise UserError(
                self.env._("Only accountants can pay an invoice from a wallet.")
            )
        entries = self.browse()
        for invoice in self:
            entries |= invoice._collection_pay_with_wallet()
        if len(self) != 1:
            return True
        line = entries._collection_get_wallet_lines()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(amount)s paid from the wallet of %(partner)s.",
                    amount=format_amount(
                        self.env, line.balance, self.company_id.currency_id
                    ),
                    partner=self.commercial_partner_id.display_name,
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _collection_refuse_wallet_payment(self, problem):
        raise UserError(
            self.env._(
                "Invoice %(invoice)s cannot be paid from the wallet: %(problem)s.",
                invoice=self.name or self.display_name,
                problem=problem,
            )
        )

    def _collection_pay_with_wallet(self):
        """Pay this invoice from its customer's wallet (see
        `action_collection_pay_with_wallet`).

        :return: the posted wallet entry
        :rtype: account.move
        """
        self.ensure_one()
        problem = self._collection_get_wallet_refusal()
        if problem:
            self._collection_refuse_wallet_payment(problem)
        if self._collection_get_debit_in_flight():
            self._collection_refuse_wallet_payment(
                self.env._("an automatic debit of it is in progress")
            )
        company = self.company_id
        partner = self.commercial_partner_id
        partner._collection_lock_wallets()
        balance = partner._collection_get_wallet_balances(company).get(partner.id, 0.0)
        currency = company.currency_id
        if currency.compare_amounts(balance, 0.0) <= 0:
            self._collection_refuse_wallet_payment(
                self.env._(
                    "the wallet of %(partner)s is empty", partner=partner.display_name
                )
            )
        amount = currency.round(min(balance, self.amount_residual))
        receivables = self.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        ).sorted(lambda line: (line.date_maturity or line.date, line.id))
        label = self.env._("Wallet payment of %(invoice)s", invoice=self.name)
        credit_lines = []
        remaining = amount
        for account, lines in receivables.grouped("account_id").items():
            part = currency.round(min(remaining, sum(lines.mapped("amount_residual"))))
            if currency.compare_amounts(part, 0.0) <= 0:
                continue
            credit_lines.append(
                Command.create(
                    {
                        "name": label,
                        "account_id": account.id,
                        "partner_id": partner.id,
                        "credit": part,
                    }
                )
            )
            remaining = currency.round(remaining - part)
        paid = currency.round(amount - remaining)
        wallet_account = company._collection_get_wallet_account()
        entry = (
            self.env["account.move"]
            .sudo()
            .create(
                {
                    "move_type": "entry",
                    "journal_id": company._collection_get_wallet_journal().id,
                    "company_id": company.id,
                    "date": fields.Date.context_today(self),
                    "ref": label,
                    "partner_id": partner.id,
                    "line_ids": [
                        Command.create(
                            {
                                "name": label,
                                "account_id": wallet_account.id,
                                "partner_id": partner.id,
                                "debit": paid,
                            }
                        ),
                        *credit_lines,
                    ],
                }
            )
        )
        entry.action_post()
        for account, lines in receivables.grouped("account_id").items():
            (
                entry.line_ids.filtered(lambda line, a=account: line.account_id == a)
                | lines
            ).reconcile()
        self._message_log(
            body=Markup(
                self.env._(
                    "%(amount)s paid from the wallet of %(partner)s (%(entry)s)."
                )
            )
            % {
                "amount": format_amount(self.env, paid, currency),
                "partner": partner.display_name,
                "entry": entry._get_html_link(),
            }
        )
        return entry


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    collection_wallet_running_balance = fields.Monetary(
        string="Wallet Balance After",
        compute="_compute_collection_wallet_running_balance",
        currency_field="company_currency_id",
        exportable=False,
        help="The customer's wallet balance after this item, in the order of the "
        "list (credits add to the wallet, debits take from it).",
    )

    @api.depends_context("order_cumulated_balance", "domain_cumulated_balance")
    def _compute_collection_wallet_running_balance(self):
        for line in self:
            line.collection_wallet_running_balance = -line.cumulated_balance

    def init(self):
        """Override of `account`: the index of the wallet balances (the posted
        items of one account and customer)."""
        res = super().init()
        create_index(
            self.env.cr,
            indexname="account_move_line_collection_wallet_idx",
            tablename="account_move_line",
            expressions=["account_id", "partner_id"],
            where="parent_state = 'posted'",
        )
        return res

    def write(self, vals):
        """Override of `account`: a posted wallet item changing customer,
        account or amount keeps every wallet at or above zero, and its
        customer."""
        watched = {"account_id", "partner_id", "balance", "debit", "credit"}
        if not watched & set(vals):
            return super().write(vals)
        before = self._collection_get_posted_wallet_lines()
        partners_before = {(line.company_id, line.partner_id) for line in before}
        res = super().write(vals)
        after = self._collection_get_posted_wallet_lines()
        if before or after:
            for line in after.filtered(lambda line: not line.partner_id):
                raise ValidationError(
                    self.env._(
                        "The journal item %(label)s of %(entry)s is on the wallet "
                        "account %(account)s without a customer: every wallet item "
                        "belongs to a customer's wallet.",
                        label=line.name or "",
                        entry=line.move_id.display_name,
                        account=line.account_id.display_name,
                    )
                )
            to_check = {}
            for company, partner in partners_before | {
                (line.company_id, line.partner_id) for line in after
            }:
                if partner:
                    to_check.setdefault(company, self.env["res.partner"])
                    to_check[company] |= partner
            for company, partners in to_check.items():
                partners._collection_check_wallets_not_negative(company)
        return res

    def _collection_get_posted_wallet_lines(self):
        posted = self.filtered(lambda line: line.parent_state == "posted")
        if not posted:
            return posted
        return posted.move_id._collection_get_wallet_lines() & posted
