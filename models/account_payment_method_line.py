# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class AccountPaymentMethodLine(models.Model):
    _inherit = "account.payment.method.line"

    offline_payment_type = fields.Selection(
        selection="_selection_offline_payment_type",
        index="btree_not_null",
        help="Set on the methods customers pay you with outside of any online "
        "provider. Customers with such a method are never debited: their invoices "
        "carry the matching payment instructions.",
    )
    collection_instructions = fields.Text(
        translate=True,
        help="Printed on invoices and in invoice e-mails of the customers paying "
        "with this method, after the standard instructions (e.g. opening hours "
        "of the office that takes cheques).",
    )

    @api.model
    def _selection_offline_payment_type(self):
        return [
            ("cheque", self.env._("Cheque")),
            ("transfer", self.env._("Bank transfer")),
            ("cash", self.env._("Cash")),
            ("money_order", self.env._("Money order")),
            ("other", self.env._("Other")),
        ]

    @api.constrains("offline_payment_type", "payment_method_id", "payment_provider_id")
    def _check_offline_payment_type(self):
        for line in self.filtered("offline_payment_type"):
            if line.payment_type != "inbound":
                raise ValidationError(
                    self.env._(
                        "%(method)s: only methods that receive money can be offline "
                        "payment methods.",
                        method=line.name,
                    )
                )
            if line.payment_provider_id:
                raise ValidationError(
                    self.env._(
                        "%(method)s is an online payment provider's method: it "
                        "cannot be an offline payment method.",
                        method=line.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `account` so that an offline method added from the offline
        methods list receives money through the generic manual method."""
        for vals in vals_list:
            if vals.get("offline_payment_type") and not vals.get("payment_method_id"):
                vals["payment_method_id"] = self.env.ref(
                    "account.account_payment_method_manual_in"
                ).id
        return super().create(vals_list)
