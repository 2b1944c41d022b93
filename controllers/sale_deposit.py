# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request

from odoo.addons.sale.controllers.portal import PaymentPortal


class CollectionSaleDeposit(PaymentPortal):
    """A quotation's online deposit, from its portal page: one at a time, for
    the amount the page offers."""

    @http.route()
    def portal_order_transaction(self, order_id, access_token, **kwargs):
        """Override of `sale`: refuse a second deposit while one is being
        processed, and an amount the page does not offer (the deposit, or the
        rest of the total)."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token
            )
        except MissingError:
            raise
        except AccessError:
            raise ValidationError(
                request.env._("The access token is invalid.")
            ) from None
        order_sudo._collection_check_online_deposit(
            self._cast_as_float(kwargs.get("amount"))
        )
        return super().portal_order_transaction(order_id, access_token, **kwargs)
