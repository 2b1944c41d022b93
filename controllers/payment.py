# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import math

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.fields import Command
from odoo.http import request

from .portal import CollectionPortal


class CollectionPlanPayment(CollectionPortal):
    """Paying the next installment of a payment plan through Odoo's payment
    flow, its amount fixed by the server."""

    @http.route(
        "/my/payment_plans/<int:plan_id>/pay",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def portal_payment_plan_pay(self, plan_id, access_token=None, **kw):
        """Odoo's payment form for the next installment, its amount fixed by the
        server."""
        try:
            plan_sudo = self._document_check_access(
                "collection.plan", plan_id, access_token
            )
        except (AccessError, MissingError):
            return request.not_found()
        amount = plan_sudo._get_amount_to_pay()
        if plan_sudo.currency_id.is_zero(amount):
            return request.redirect(plan_sudo.get_portal_url())
        plan_token = plan_sudo._portal_ensure_token()
        values = self._collection_plan_page_values(
            plan_sudo, self._collection_clean_access_token(access_token), **kw
        )
        values.update(
            self._get_common_page_view_values(
                invoices_data={
                    "partner": plan_sudo.partner_id,
                    "company": plan_sudo.company_id,
                    "total_amount": amount,
                    "currency": plan_sudo.currency_id,
                    "amount_residual": amount,
                    "payment_reference": plan_sudo.name,
                    "landing_route": plan_sudo.get_portal_url(),
                    "transaction_route": (
                        f"/my/payment_plans/{plan_sudo.id}/transaction"
                    ),
                },
                access_token=plan_token,
            )
        )
        values.update(
            {
                "amount": amount,
                "installment": plan_sudo.next_installment_id,
                "plan_pay": True,
            }
        )
        return request.render(
            "account_payment_collection.collection_plan_portal_pay", values
        )

    @http.route(
        "/my/payment_plans/<int:plan_id>/transaction",
        type="json",
        auth="public",
    )
    def portal_payment_plan_transaction(
        self, plan_id, access_token=None, payment_reference=None, **kwargs
    ):
        """Create the transaction paying the next installment of a plan, for the
        plan's open invoices (reconciled oldest first), and return its
        processing values. The amount is the server's, never the browser's.

        :raise NotFound: unknown plan, or no access to it (the same answer, its
            cause not chained: a JSON error shows the traceback)
        :raise ValidationError: nothing to pay, or the amount has changed
        """
        try:
            plan_sudo = self._document_check_access(
                "collection.plan", plan_id, access_token
            )
        except (AccessError, MissingError):
            raise NotFound() from None
        self._validate_transaction_kwargs(kwargs)
        env = request.env
        currency = plan_sudo.currency_id
        amount = plan_sudo._get_amount_to_pay()
        if currency.is_zero(amount) or kwargs.get("is_validation"):
            raise ValidationError(
                env._("There is nothing left to pay online on this payment plan.")
            )
        browser_amount = self._cast_as_float(kwargs.get("amount"))
        # NaN, infinities and amounts far from the server's cannot be rounded
        # (an OverflowError): they are simply not the amount to pay.
        if (
            browser_amount is None
            or not math.isfinite(browser_amount)
            or abs(browser_amount - amount) > 1
            or currency.compare_amounts(browser_amount, amount)
        ):
            raise ValidationError(
                env._("The amount to pay has changed: please reload the page.")
            )
        logged_in = not env.user._is_public()
        partner_sudo = env.user.partner_id if logged_in else plan_sudo.partner_id
        kwargs.update(
            {
                "amount": amount,
                "currency_id": currency.id,
                "partner_id": partner_sudo.id,
                "reference_prefix": plan_sudo.name,
            }
        )
        invoices_sudo = plan_sudo._get_invoices_to_pay()
        tx_sudo = self._create_transaction(
            custom_create_values={
                "invoice_ids": [Command.set(invoices_sudo.ids)],
                # Paid through the plan: the hold on its invoices allows it.
                "collection_plan_id": plan_sudo.id,
                "collection_installment_id": plan_sudo.next_installment_id.id,
            },
            **kwargs,
        )
        return tx_sudo._get_processing_values()
