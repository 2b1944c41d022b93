# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..const import COLLECTION_IN_FLIGHT_STATES


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    collection_pending_warning = fields.Char(
        compute="_compute_collection_pending_warning",
        help="The invoices whose automatic debit is sent and not confirmed yet: "
        "registering a payment now may make the customer pay twice.",
    )

    @api.depends("line_ids")
    def _compute_collection_pending_warning(self):
        for wizard in self:
            moves = wizard.line_ids.move_id.filtered(
                lambda move: move.collection_state in COLLECTION_IN_FLIGHT_STATES
            )
            wizard.collection_pending_warning = (
                self.env._(
                    "An automatic debit of %(invoices)s is in progress at the "
                    "payment provider: if you register this payment too, the "
                    "customer may pay twice. Wait for the provider's answer unless "
                    "you know the debit failed.",
                    invoices=", ".join(sorted(moves.mapped("name"))),
                )
                if moves
                else False
            )
