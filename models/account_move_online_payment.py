# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_paid_online = fields.Boolean(
        string="Paid Online",
        compute="_compute_collection_paid_online",
        store=True,
        help="An online payment of this invoice (Stripe, PayPal, GoCardless...) was "
        "integrated into accounting and not reversed since.",
    )

    @api.depends(
        "transaction_ids.collection_integration_state",
        "transaction_ids.collection_reversed",
        "transaction_ids.amount",
    )
    def _compute_collection_paid_online(self):
        for move in self:
            move.collection_paid_online = any(
                tx.collection_integration_state == "integrated"
                and tx.amount > 0
                and not tx.collection_reversed
                for tx in move.transaction_ids
            )

    def _collection_is_online_payment_allowed(self):
        """Whether this invoice may be paid online: the payment method chosen
        for it (else its customer's) allows online payment. The Pay button of
        the invoice e-mail and PDF is shown only when it does.

        :rtype: bool
        """
        self.ensure_one()
        method_line = (
            self.preferred_payment_method_line_id
            or self.commercial_partner_id.with_company(
                self.company_id
            ).property_inbound_payment_method_line_id
        )
        return bool(method_line.collection_allow_online_payment)

    def action_collection_view_online_payments(self):
        """The online payments of this invoice, in the integration screen."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_collection.payment_transaction_action_collection"
        )
        action["domain"] = [("invoice_ids", "in", self.ids)]
        action["context"] = {}
        return action

    def _collection_get_debit_in_flight(self):
        """Override of the add-on's automatic debits: a debit done but waiting
        for its integration (online payments integrated after review) is still
        in flight: the invoice is not debited again meanwhile."""
        tx = super()._collection_get_debit_in_flight()
        if tx:
            return tx
        return (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("invoice_ids", "in", self.ids),
                    ("collection_idempotency_key", "!=", False),
                    ("state", "=", "done"),
                    ("collection_integration_state", "=", "to_integrate"),
                ],
                limit=1,
            )
        )
