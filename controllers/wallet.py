# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.tools import consteq

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal import CollectionPortal

# Where the outcome of "Pay with my wallet" waits for the invoice page.
_WALLET_NOTICE_KEY = "collection_wallet_notice"
_WALLET_PAGE_SIZE = 20


class CollectionWalletPortal(CollectionPortal):
    """Customer side of the wallets: the balance on the portal home, the
    wallet's history page, and "Pay with my wallet" on the invoice page."""

    # ------------------------------------------------------------------
    # Portal home and wallet page
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        """Override of `portal` to show the customer's wallet balance on the
        portal home (read once, when the page is rendered, not by the
        counters' requests)."""
        values = super()._prepare_home_portal_values(counters)
        if not counters:
            values.update(self._collection_get_wallet_summary())
        return values

    def _collection_get_wallet_summary(self):
        """The visitor's wallet in the current company: its balance and whether
        it was ever used (the portal shows it then).

        :rtype: dict
        """
        user = request.env.user
        if user._is_public():
            return {"collection_wallet_shown": False}
        partner_sudo = user.partner_id.commercial_partner_id.sudo()
        company = request.env.company
        items, count = partner_sudo._collection_get_wallet_history(company, limit=1)
        return {
            "collection_wallet_shown": bool(count),
            "collection_wallet_balance": items[0][1] if items else 0.0,
            "collection_wallet_currency": company.currency_id,
        }

    @http.route(
        ["/my/wallet", "/my/wallet/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        sitemap=False,
    )
    def portal_my_wallet(self, page=1, **kw):
        """The customer's wallet: its balance and history, newest first, only
        the visitor's commercial entity's."""
        partner_sudo = request.env.user.partner_id.commercial_partner_id.sudo()
        company = request.env.company
        total = partner_sudo._collection_get_wallet_history(company, limit=1)[1]
        pager = portal_pager(
            url="/my/wallet", total=total, page=page, step=_WALLET_PAGE_SIZE
        )
        items, _count = partner_sudo._collection_get_wallet_history(
            company, limit=_WALLET_PAGE_SIZE, offset=pager["offset"]
        )
        balance = partner_sudo._collection_get_wallet_balances(company).get(
            partner_sudo.id, 0.0
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "collection_wallet",
                "wallet_items": items,
                "wallet_balance": balance,
                "wallet_currency": company.currency_id,
                "pager": pager,
                "default_url": "/my/wallet",
            }
        )
        return request.render(
            "account_payment_collection.portal_my_collection_wallet", values
        )

    # ------------------------------------------------------------------
    # Invoice page
    # ------------------------------------------------------------------

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        """Override of `account_payment` to offer "Pay with my wallet" on an open
        invoice whose customer has a balance, and to show the outcome of that
        payment."""
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        values.update(self._collection_invoice_wallet_values(invoice, access_token))
        return values

    def _collection_invoice_wallet_values(self, invoice, access_token):
        """Values of the wallet block of the portal invoice page.

        :param recordset invoice: the invoice, access already checked
        :param str access_token: the access token the visitor came with
        :rtype: dict
        """
        invoice_sudo = invoice.sudo()
        values = {
            "collection_wallet_can_pay": False,
            "collection_wallet_notice": False,
        }
        notices = request.session.get(_WALLET_NOTICE_KEY) or {}
        if str(invoice_sudo.id) in notices:
            notices = dict(notices)
            values["collection_wallet_notice"] = notices.pop(str(invoice_sudo.id))
            request.session[_WALLET_NOTICE_KEY] = notices
        if invoice_sudo.collection_can_pay_with_wallet:
            partner_sudo = invoice_sudo.commercial_partner_id
            balance = partner_sudo._collection_get_wallet_balances(
                invoice_sudo.company_id
            ).get(partner_sudo.id, 0.0)
            clean_token = self._collection_clean_access_token(access_token)
            if not (
                clean_token
                and invoice_sudo.access_token
                and consteq(invoice_sudo.access_token, clean_token)
            ):
                clean_token = None
            values.update(
                {
                    "collection_wallet_can_pay": True,
                    "collection_wallet_balance": balance,
                    "collection_wallet_amount": min(
                        balance, invoice_sudo.amount_residual
                    ),
                    "collection_wallet_pay_url": (
                        f"/my/invoices/{invoice_sudo.id}/pay_with_wallet"
                    ),
                    "collection_wallet_access_token": clean_token,
                }
            )
        return values

    @http.route(
        "/my/invoices/<int:invoice_id>/pay_with_wallet",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def portal_invoice_pay_with_wallet(self, invoice_id, access_token=None, **kw):
        """Pay the invoice from its customer's wallet (the visitor may open the
        invoice: theirs, or with its access token), then back to the invoice
        with the outcome. Anyone else gets 404."""
        try:
            invoice_sudo = self._document_check_access(
                "account.move", invoice_id, access_token
            )
        except (AccessError, MissingError):
            return request.not_found()
        if invoice_sudo.move_type != "out_invoice":
            return request.not_found()
        try:
            with request.env.cr.savepoint():
                invoice_sudo.action_collection_pay_with_wallet()
            notice = {
                "kind": "success",
                "message": self._collection_wallet_paid(invoice_sudo),
            }
        except (UserError, ValidationError) as error:
            notice = {"kind": "danger", "message": error.args[0]}
        notices = dict(request.session.get(_WALLET_NOTICE_KEY) or {})
        notices[str(invoice_sudo.id)] = notice
        request.session[_WALLET_NOTICE_KEY] = notices
        return request.redirect(invoice_sudo.get_portal_url())

    @staticmethod
    def _collection_wallet_paid(invoice_sudo):
        env = request.env
        if invoice_sudo.payment_state in ("paid", "in_payment"):
            return env._("Paid with your wallet. Thank you!")
        return env._(
            "Your wallet paid part of this invoice: %(amount)s is left to pay.",
            amount=invoice_sudo.currency_id.format(invoice_sudo.amount_residual),
        )
