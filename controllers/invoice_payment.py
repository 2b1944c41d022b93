# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import math

from odoo import http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request

from odoo.addons.account_payment.controllers.payment import PaymentPortal


class CollectionInvoicePayment(PaymentPortal):
    """An invoice paid online from its page (its e-mail's and PDF's Pay
    button): only what can be paid, for at most what is due."""

    @http.route()
    def invoice_transaction(self, invoice_id, access_token, **kwargs):
        """Override of `account_payment`: refuse a paid or cancelled invoice
        and an amount of zero, below zero or above what is due, before any
        transaction is created."""
        env = request.env
        try:
            invoice_sudo = self._document_check_access(
                "account.move", invoice_id, access_token
            )
        except MissingError:
            raise
        except AccessError:
            raise ValidationError(env._("The access token is invalid.")) from None
        currency = invoice_sudo.currency_id
        if invoice_sudo.state != "posted" or currency.is_zero(
            invoice_sudo.amount_residual
        ):
            raise ValidationError(
                env._(
                    "Invoice %(invoice)s has nothing left to pay.",
                    invoice=invoice_sudo.name,
                )
            )
        amount = self._cast_as_float(kwargs.get("amount"))
        if (
            amount is None
            or not math.isfinite(amount)
            or currency.compare_amounts(amount, 0) <= 0
            or currency.compare_amounts(amount, invoice_sudo.amount_residual) > 0
        ):
            raise ValidationError(
                env._("The amount to pay has changed: please reload the page.")
            )
        return super().invoice_transaction(invoice_id, access_token, **kwargs)
