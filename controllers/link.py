# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import math

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from odoo.addons.payment.controllers.portal import PaymentPortal

_logger = logging.getLogger(__name__)


class CollectionLinkController(PaymentPortal):
    """The public page of a payment link (order deposit, wallet top-up,
    settlement of invoices): Odoo's payment form for the amount the server
    fixes, or why the link cannot be paid."""

    @http.route(
        "/collection/l/<string:key>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def collection_link_short(self, key, **kwargs):
        """The short URL sent by SMS: redirects to the signed link."""
        link_sudo = (
            request.env["collection.link"].sudo().search([("key", "=", key)], limit=1)
        )
        if not link_sudo or not link_sudo.url:
            raise NotFound()
        return request.redirect(link_sudo.url, code=303, local=False)

    @http.route(
        "/collection/pay/<string:key>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def collection_link_pay(self, key, **kwargs):
        """Odoo's payment form for the link's amount, at once.

        Forged or tampered parameters, and a logged-in customer who is not the
        link's: 404. Expired or revoked links: 403 with the reason. A paid link
        says so (200)."""
        Link = request.env["collection.link"].sudo()
        values = Link._collection_parse_params(key, kwargs)
        if not values or not self._collection_may_open(values["partner"]):
            raise NotFound()
        link_sudo = Link._collection_get_or_create(values)
        if not link_sudo._collection_check_token(values["access_token"]):
            raise NotFound()
        lang = link_sudo.partner_id.lang
        if request.env.user._is_public() and lang:
            request.update_context(lang=lang)
        status = link_sudo._collection_get_status()
        if status != "payable":
            http_status = 403 if status in ("expired", "revoked") else 200
            return request.render(
                "account_payment_collection.collection_link_page",
                self._collection_link_page_values(link_sudo, status),
                status=http_status,
            )
        return request.render(
            "account_payment_collection.collection_link_page",
            self._collection_link_form_values(link_sudo, kwargs),
        )

    @staticmethod
    def _collection_may_open(partner):
        """Public visitors holding the link, the customer's own portal users
        and internal users may open it; another customer may not."""
        user = request.env.user
        if user._is_public() or not user.share:
            return True
        return user.partner_id.commercial_partner_id == partner.commercial_partner_id

    def _collection_link_page_values(self, link_sudo, status):
        return {
            "link": link_sudo,
            "status": status,
            "res_company": link_sudo.company_id,
            "amount_due": link_sudo._collection_get_amount_due(),
            "wallet_balance": link_sudo.partner_id.with_company(
                link_sudo.company_id
            ).collection_wallet_balance
            if link_sudo.purpose == "wallet"
            else 0.0,
            "page_name": "collection_link",
        }

    def _collection_link_form_values(self, link_sudo, kwargs):
        env = request.env
        partner_sudo = link_sudo.partner_id
        company = link_sudo.company_id
        currency = link_sudo.currency_id
        amount = link_sudo._collection_get_amount_due()
        availability_report = {}
        providers_sudo = (
            env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                company.id,
                partner_sudo.id,
                amount,
                currency_id=currency.id,
                report=availability_report,
            )
        )
        payment_methods_sudo = (
            env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                currency_id=currency.id,
                report=availability_report,
            )
        )
        # Saved cards are offered only to the customer's own logged-in users: a
        # link may be forwarded.
        user = env.user
        own_user = not user._is_public() and (
            user.partner_id.commercial_partner_id == partner_sudo.commercial_partner_id
        )
        tokens_sudo = (
            env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner_sudo.id)
            if own_user
            else env["payment.token"]
        )
        return {
            **self._collection_link_page_values(link_sudo, "payable"),
            "reference_prefix": link_sudo._collection_get_reference_prefix(),
            "amount": amount,
            "currency": currency,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": availability_report,
            "show_tokenize_input_mapping": dict.fromkeys(providers_sudo.ids, False),
            "transaction_route": f"/collection/pay/{link_sudo.key}/transaction",
            "landing_route": link_sudo._collection_get_landing_route(),
            "access_token": link_sudo.sudo().access_token,
        }

    @http.route(
        "/collection/pay/<string:key>/transaction",
        type="json",
        auth="public",
    )
    def collection_link_transaction(self, key, access_token=None, **kwargs):
        """Create the transaction paying a link and return its processing
        values. The link is locked: two tabs paying at once are served one after
        the other, and the second is refused. The amount, customer and
        documents are the link's, never the browser's.

        :raise NotFound: unknown link or wrong token
        :raise ValidationError: paid, being paid, expired, revoked, nothing due,
            or the amount has changed since the page was opened
        """
        env = request.env
        link_sudo = env["collection.link"].sudo().search([("key", "=", key)], limit=1)
        if (
            not link_sudo
            or not link_sudo._collection_check_token(access_token)
            or not self._collection_may_open(link_sudo.partner_id)
        ):
            raise NotFound()
        self._validate_transaction_kwargs(kwargs)
        if kwargs.get("is_validation"):
            raise ValidationError(env._("A payment link pays an amount."))
        link_sudo._collection_lock()
        link_sudo.invalidate_recordset()
        amount = link_sudo._collection_check_payable()
        browser_amount = self._cast_as_float(kwargs.get("amount"))
        currency = link_sudo.currency_id
        if (
            browser_amount is None
            or not math.isfinite(browser_amount)
            or abs(browser_amount - amount) > 1
            or currency.compare_amounts(browser_amount, amount)
        ):
            raise ValidationError(
                env._("The amount to pay has changed: please reload the page.")
            )
        kwargs.update(
            {
                "amount": amount,
                "currency_id": currency.id,
                "partner_id": link_sudo.partner_id.id,
                "reference_prefix": link_sudo._collection_get_reference_prefix(),
                "tokenization_requested": False,
                "landing_route": link_sudo._collection_get_landing_route(),
            }
        )
        if kwargs.get("flow") == "token":
            token_sudo = (
                env["payment.token"].sudo().browse(kwargs.get("token_id")).exists()
            )
            user = env.user
            if (
                user._is_public()
                or token_sudo.partner_id.commercial_partner_id
                != link_sudo.partner_id.commercial_partner_id
            ):
                raise NotFound()
        tx_sudo = self._create_transaction(
            custom_create_values=link_sudo._collection_get_transaction_values(),
            **kwargs,
        )
        _logger.info(
            "transaction %s created for payment link %s", tx_sudo.id, link_sudo.id
        )
        return tx_sudo._get_processing_values()
