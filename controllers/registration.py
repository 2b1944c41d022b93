# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

_logger = logging.getLogger(__name__)

# A form sent twice within this delay sends the customer back to the same
# provider's page instead of opening another one.
REUSE_HOSTED_PAGE_DELAY = timedelta(hours=1)


class CollectionRegistrationController(http.Controller):
    """The public page where a customer saves a card or a SEPA mandate from
    their registration link, without any purchase, and the confirmation page
    they come back to from the provider's hosted page."""

    _register_url = "/collection/register/<int:partner_id>"
    _confirm_url = "/collection/register/confirm/<int:registration_id>"

    @http.route(
        _register_url,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        sitemap=False,
    )
    def collection_register(
        self, partner_id, company=None, expires=None, signature=None, **post
    ):
        partner_sudo, status = self._collection_get_link_partner(
            partner_id, company, expires, signature
        )
        if status == "expired":
            return self._collection_render_message(
                partner_sudo,
                request.env._(
                    "This link has expired. Please ask %(company)s for a new one.",
                    company=partner_sudo.env.company.name,
                ),
                status=403,
            )
        if partner_sudo.collection_greylisted:
            return self._collection_render_message(
                partner_sudo,
                request.env._(
                    "This link is closed after several attempts that did not go "
                    "through. Please contact %(company)s.",
                    company=partner_sudo.env.company.name,
                ),
                status=403,
            )
        offer = partner_sudo._collection_get_registration_providers()
        if request.httprequest.method == "POST":
            return self._collection_submit(partner_sudo, offer, post)
        return self._collection_render_choice(partner_sudo, offer)

    def _collection_get_link_partner(self, partner_id, company, expires, signature):
        """The customer of a registration link, sudo, in the link's company, and
        whether the link is ``valid`` or ``expired``.

        :raise NotFound: the link is not one sent to that customer, or was revoked
        """
        if (
            not isinstance(company, str)
            or not company.isascii()
            or not company.isdigit()
            or len(company) > 9
        ):
            raise NotFound()
        company_sudo = request.env["res.company"].sudo().browse(int(company)).exists()
        partner_sudo = request.env["res.partner"].sudo().browse(partner_id).exists()
        if not company_sudo or not partner_sudo:
            raise NotFound()
        partner_sudo = partner_sudo.with_company(company_sudo).with_context(
            allowed_company_ids=company_sudo.ids
        )
        status = partner_sudo._collection_check_registration_link(expires, signature)
        if status == "invalid":
            raise NotFound()
        if partner_sudo.lang:
            request.update_context(lang=partner_sudo.lang)
            partner_sudo = partner_sudo.with_context(lang=partner_sudo.lang)
        return partner_sudo, status

    def _collection_submit(self, partner_sudo, offer, post):
        provider_sudo, method_code = self._collection_parse_choice(offer, post)
        if not provider_sudo:
            return self._collection_render_choice(
                partner_sudo,
                offer,
                error=request.env._("Please choose how you want to pay."),
                status=422,
            )
        Registration = request.env["collection.registration"].sudo()
        recent = Registration.search(
            [
                ("partner_id", "=", partner_sudo.id),
                ("provider_id", "=", provider_sudo.id),
                ("payment_method_code", "=", method_code),
                ("state", "=", "pending"),
                ("hosted_url", "!=", False),
                ("create_date", ">", fields.Datetime.now() - REUSE_HOSTED_PAGE_DELAY),
            ],
            limit=1,
        )
        if recent:
            return request.redirect(recent.hosted_url, code=303, local=False)
        registration = Registration.create(
            {
                "partner_id": partner_sudo.id,
                "company_id": partner_sudo.env.company.id,
                "provider_id": provider_sudo.id,
                "payment_method_code": method_code,
            }
        )
        try:
            with request.env.cr.savepoint():
                url = provider_sudo._collection_start_registration(registration)
        except (UserError, ValidationError) as error:
            _logger.warning(
                "registration %s could not start at %s: %s",
                registration.id,
                provider_sudo.code,
                error,
            )
            # The provider's fault, not the customer's: not a failed attempt.
            registration.write({"state": "failed", "state_message": str(error)})
            return self._collection_render_choice(
                partner_sudo,
                offer,
                error=request.env._(
                    "The payment provider cannot be reached right now. Please try "
                    "again in a few minutes."
                ),
                status=503,
            )
        registration.write({"state": "pending", "hosted_url": url})
        _logger.info(
            "registration %s of partner %s sent to %s",
            registration.id,
            partner_sudo.id,
            provider_sudo.code,
        )
        return request.redirect(url, code=303, local=False)

    @staticmethod
    def _collection_parse_choice(offer, post):
        """The provider and method chosen in the form, among those offered.

        :return: (provider, method code), or (None, None) for a choice not
            offered
        """
        raw_provider = post.get("provider_id")
        raw_code = post.get("payment_method_code")
        if (
            not isinstance(raw_provider, str)
            or not raw_provider.isascii()
            or not raw_provider.isdigit()
            or len(raw_provider) > 9
        ):
            return None, None
        for provider, codes in offer:
            if provider.id != int(raw_provider):
                continue
            if raw_code in codes:
                return provider, raw_code
            if not raw_code and len(codes) == 1:
                return provider, codes[0]
        return None, None

    @http.route(
        _confirm_url, type="http", auth="public", methods=["GET"], sitemap=False
    )
    def collection_register_confirm(self, registration_id, access_token=None, **kwargs):
        registration = (
            request.env["collection.registration"]
            .sudo()
            .browse(registration_id)
            .exists()
        )
        if not registration or not registration._collection_check_access_token(
            access_token
        ):
            raise NotFound()
        if registration.state == "pending":
            try:
                with request.env.cr.savepoint():
                    registration.provider_id._collection_fetch_registration(
                        registration
                    )
            except (UserError, ValidationError) as error:
                # The webhook will tell; the page says the registration is pending.
                _logger.warning(
                    "registration %s: the provider could not be asked: %s",
                    registration.id,
                    error,
                )
        partner = registration.partner_id.with_company(registration.company_id)
        if partner.lang:
            request.update_context(lang=partner.lang)
            registration = registration.with_context(lang=partner.lang)
        return request.render(
            "account_payment_collection.collection_registration_confirmation",
            {
                "registration": registration,
                "company": registration.company_id,
                "retry_url": partner.collection_registration_url
                if not partner.collection_greylisted
                else False,
            },
        )

    def _collection_render_choice(self, partner_sudo, offer, error=None, status=200):
        company = partner_sudo.env.company
        labels = dict(
            request.env["collection.registration"]
            ._fields["payment_method_code"]
            ._description_selection(request.env)
        )
        options = [
            {
                "provider": provider,
                "code": code,
                "label": labels[code],
                "key": f"{provider.id}-{code}",
            }
            for provider, codes in offer
            for code in codes
        ]
        return request.render(
            "account_payment_collection.collection_registration_page",
            {
                "partner": partner_sudo,
                "company": company,
                "options": options,
                "error": error,
                "form_url": request.httprequest.full_path,
            },
            status=status,
        )

    def _collection_render_message(self, partner_sudo, message, status):
        return request.render(
            "account_payment_collection.collection_registration_message",
            {"company": partner_sudo.env.company, "message": message},
            status=status,
        )
