# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from markupsafe import Markup

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class PaymentToken(models.Model):
    _inherit = "payment.token"

    collection_mandate_status = fields.Char(
        string="Mandate Status",
        readonly=True,
        help="The status of the SEPA mandate at the payment provider (active, "
        "pending submission, cancelled...), as last reported by the provider.",
    )

    @api.depends(
        "payment_details",
        "create_date",
        "payment_method_id.name",
        "collection_mandate_status",
    )
    def _compute_display_name(self):  # pylint: disable=missing-return
        """Override of `payment` to name the card brand or the mandate, and the
        mandate's status, as an accountant reads it: "Visa •••• 4242", "SEPA
        Direct Debit MD-0042 (pending submission)"."""
        super()._compute_display_name()
        for token in self:
            if not token.create_date:
                continue
            if token.provider_code == "gocardless" and token.payment_details:
                details = token.payment_details
            else:
                details = token.display_name
            name = " ".join(filter(None, (token.payment_method_id.name, details)))
            status = token.collection_mandate_status
            if status and status != "active":
                name = f"{name} ({status.replace('_', ' ')})"
            token.display_name = name

    def _collection_deactivate(self, reason):
        """The provider says this card or mandate can no longer be debited
        (mandate cancelled, expired or failed; payment method detached): archive
        it, stop the debits not sent yet of the customers collected from it, and
        tell the accountant.

        :param str reason: what the provider said, for the accountant
        """
        tokens = self.sudo().filtered("active")
        if not tokens:
            return
        tokens.active = False
        for token in tokens:
            _logger.info("token %s deactivated: %s", token.id, reason)
            partner = token.partner_id.commercial_partner_id.with_company(
                token.company_id
            )
            body = self.env._(
                "The saved card or mandate %(token)s can no longer be debited: "
                "%(reason)s Invoices not debited yet are no longer collected "
                "automatically; send the customer a registration link for a new "
                "card or mandate, or switch them to offline payment.",
                token=token.display_name,
                reason=reason,
            )
            partner._message_log(body=Markup("<p>%s</p>") % body)
            if partner.collection_token_id == token:
                partner._collection_stop_automatic(
                    self.env._(
                        "Automatic debit cancelled: the saved card or mandate "
                        "%(token)s can no longer be debited.",
                        token=token.display_name,
                    )
                )
                partner._collection_schedule_activity(
                    self.env._("Card or mandate no longer usable"), body
                )
