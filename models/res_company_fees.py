# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

from ..const import COLLECTION_FEE_ACCOUNT_CODE, COLLECTION_FEE_ACCOUNT_XMLIDS


class ResCompany(models.Model):
    _inherit = "res.company"

    def _collection_get_default_fee_account(self):
        """The account the fees of online payments are booked on by default: the
        French chart's 627800 (Services bancaires et assimilés: other fees and
        commissions), else an expense account 627... of the chart, else one the
        add-on creates. Empty for a company without chart of accounts.

        :rtype: account.account
        """
        self.ensure_one()
        Account = self.env["account.account"].sudo().with_company(self)
        for xmlid in COLLECTION_FEE_ACCOUNT_XMLIDS:
            account = self.env.ref(
                f"account.{self.id}_{xmlid}", raise_if_not_found=False
            )
            if (
                account
                and account._name == "account.account"
                and not account.deprecated
            ):
                return account
        if not self.chart_template:
            return Account
        domain = [
            *Account._check_company_domain(self),
            ("account_type", "=", "expense"),
        ]
        account = Account.search(
            [*domain, ("code", "=like", f"{COLLECTION_FEE_ACCOUNT_CODE[:3]}%")],
            order="code",
            limit=1,
        )
        if account:
            return account
        code = COLLECTION_FEE_ACCOUNT_CODE
        while Account.search_count([*domain[:-1], ("code", "=", code)]):
            code = str(int(code) + 1)
        return Account.create(
            {
                "name": self.env._("Payment provider fees"),
                "code": code,
                "account_type": "expense",
                "company_ids": [(6, 0, self.ids)],
            }
        )
