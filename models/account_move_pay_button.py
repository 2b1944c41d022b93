# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import io

import qrcode

from odoo import models
from odoo.exceptions import UserError


def qr_code_data_uri(url):
    """``url`` as a QR code, a PNG data URI for PDFs, drawn by ``qrcode`` with
    Pillow (both Odoo requirements; no reportlab renderer needed): small and
    quick for wkhtmltopdf to draw."""
    image = qrcode.make(url, box_size=4, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# The recipients of an invoice e-mail whose button becomes Pay online: the
# customer (portal access) and the addresses added by hand.
PAY_BUTTON_GROUPS = ("portal_customer", "additional_intended_recipient", "customer")


class AccountMove(models.Model):
    """The Pay button of invoice e-mails and PDFs: a link to the invoice's page
    that opens Odoo's payment form for its amount due."""

    _inherit = "account.move"

    def _collection_show_pay_button(self):
        """Whether this invoice's e-mail and PDF carry the Pay button: a
        posted customer invoice with an amount due that its page offers to pay
        online (``_has_to_be_paid``: online payment of invoices on, not on
        hold, no payment under way), a published provider in its company, and a
        customer whose payment method allows online payment.

        :rtype: bool
        """
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted":
            return False
        if self.currency_id.is_zero(self.amount_residual):
            return False
        return bool(self._collection_get_reminder_payable_moves()) and (
            self._collection_is_online_payment_allowed()
        )

    def _collection_get_pay_url(self):
        """The Pay button's link: the invoice's page with its access token,
        opening the payment form for what is due when it is opened. It stays
        valid for the invoice's life (it carries no amount), until the
        customer's links are revoked.

        :rtype: str
        """
        self.ensure_one()
        return self.get_base_url() + self.get_portal_url(
            anchor="portal_pay", query_string="&payment=True"
        )

    def _collection_get_pay_qr_code(self):
        """The Pay button's link as a QR code (a PNG data URI) for the PDF."""
        self.ensure_one()
        return qr_code_data_uri(self._collection_get_pay_url())

    def _notify_get_recipients_groups(self, message, model_description, msg_vals=None):
        """Override of `account`: the button of the invoice e-mail to the
        customer says Pay online and opens the payment form, when the invoice
        is offered to pay online."""
        groups = super()._notify_get_recipients_groups(
            message, model_description, msg_vals=msg_vals
        )
        if len(self) != 1 or not self._collection_show_pay_button():
            return groups
        url = self._collection_get_pay_url()
        for name, _check, group_data in groups:
            if name in PAY_BUTTON_GROUPS and group_data.get("has_button_access"):
                group_data["button_access"] = {
                    "url": url,
                    "title": self.env._("Pay online"),
                }
        return groups

    def _collection_get_pay_button_without_email(self):
        """The customers of these invoices with a Pay button who have no
        e-mail address: they would never see it."""
        return self.filtered(
            lambda move: not move.partner_id.email
            and move._collection_show_pay_button()
        ).partner_id

    def _collection_check_pay_button_recipients(self):
        """Refuse to e-mail invoices with a Pay button to customers without an
        e-mail address.

        :raise UserError: naming the customers
        """
        missing = self._collection_get_pay_button_without_email()
        if missing:
            raise UserError(self._collection_get_missing_email_message(missing))

    def _collection_get_missing_email_message(self, partners):
        return self.env._(
            "%(customers)s: no e-mail address, so the invoice and its Pay button "
            "cannot be sent by e-mail. Add an e-mail address to the customer, or "
            "print the invoice.",
            customers=", ".join(partners.mapped("display_name")),
        )
