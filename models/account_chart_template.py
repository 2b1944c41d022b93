# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """Override of `account` to give a new company its offline payment methods
        once its bank and cash journals exist, and its wallet account and
        journal."""
        res = super()._post_load_data(template_code, company, template_data)
        (company or self.env.company)._collection_ensure_offline_method_lines()
        (company or self.env.company)._collection_ensure_wallet_setup()
        return res
