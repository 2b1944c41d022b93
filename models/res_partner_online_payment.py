# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_online_payment_allowed = fields.Boolean(
        string="May Pay Online",
        compute="_compute_collection_online_payment_allowed",
        help="The customer's payment method allows online payment (Invoicing > "
        "Configuration > Offline Payment Methods, Allow online payment): their "
        "invoices get a Pay button.",
    )

    @api.depends_context("company")
    @api.depends(
        "commercial_partner_id.property_inbound_payment_method_line_id."
        "collection_allow_online_payment"
    )
    def _compute_collection_online_payment_allowed(self):
        """Whether the customer (their commercial partner, in the current
        company) may pay online: the helper the Pay button of invoice e-mails and
        PDFs relies on (see also
        ``account.move._collection_is_online_payment_allowed``)."""
        for partner in self:
            method_line = (
                partner.commercial_partner_id.property_inbound_payment_method_line_id
            )
            partner.collection_online_payment_allowed = bool(
                method_line.collection_allow_online_payment
            )
