# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

import gocardless_pro
import requests
from gocardless_pro import errors as gocardless_errors
from werkzeug.urls import url_encode, url_join

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.payment import utils as payment_utils

from .. import const
from ..controllers.gocardless import GoCardlessController
from ..utils import CollectionUnknownOutcome

_logger = logging.getLogger(__name__)


class GoCardlessError(ValidationError):
    """A refusal of the GoCardless API, with its translated message and what
    the API said about it (``error_type`` such as ``invalid_state``, the
    ``reasons`` such as ``mandate_is_inactive``, the HTTP ``status``)."""

    def __init__(self, message, error_type=None, reasons=(), status=None):
        super().__init__(message)
        self.error_type = error_type
        self.reasons = tuple(reasons)
        self.status = status


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    code = fields.Selection(
        selection_add=[("gocardless", "GoCardless")],
        ondelete={"gocardless": "set default"},
    )
    gocardless_access_token = fields.Char(
        string="GoCardless Access Token",
        help="A read-write access token of your GoCardless account (Developers > "
        "Create > Access token): it starts with sandbox_ or live_.",
        required_if_provider="gocardless",
        groups="base.group_system",
    )
    gocardless_webhook_secret = fields.Char(
        string="GoCardless Webhook Secret",
        help="The secret of the webhook endpoint created in GoCardless (Developers > "
        "Create > Webhook endpoint) with the webhook URL below. Without it, Odoo "
        "refuses every notification from GoCardless.",
        groups="base.group_system",
    )
    gocardless_environment = fields.Selection(
        string="GoCardless Environment",
        selection=[("sandbox", "Sandbox"), ("live", "Live")],
        default="sandbox",
        help="The GoCardless environment the provider talks to. In Test Mode the "
        "provider always uses the sandbox, whatever is chosen here; once enabled it "
        "uses this environment: choose Live, with a live access token, to collect "
        "real debits.",
    )
    gocardless_webhook_url = fields.Char(
        string="GoCardless Webhook URL",
        compute="_compute_gocardless_webhook_url",
        help="The URL to give GoCardless when creating the webhook endpoint.",
    )

    # ------------------------------------------------------------------
    # Compute methods
    # ------------------------------------------------------------------

    def _compute_feature_support_fields(self):  # pylint: disable=missing-return
        """Override of `payment` to enable the tokenization of GoCardless
        mandates."""
        super()._compute_feature_support_fields()
        self.filtered(lambda p: p.code == "gocardless").update(
            {"support_tokenization": True, "support_refund": "none"}
        )

    @api.depends("code")
    def _compute_gocardless_webhook_url(self):
        for provider in self:
            provider.gocardless_webhook_url = (
                url_join(provider.get_base_url(), GoCardlessController._webhook_url)
                if provider.code == "gocardless"
                else False
            )

    # ------------------------------------------------------------------
    # Constraints and onchange
    # ------------------------------------------------------------------

    @api.constrains("gocardless_access_token", "gocardless_environment", "state")
    def _check_gocardless_access_token_environment(self):
        """A sandbox access token only works in the sandbox, a live one only in
        live: refuse the mix instead of failing at the first debit."""
        for provider in self.filtered(
            lambda p: p.code == "gocardless" and p.state != "disabled"
        ):
            access_token = provider.sudo().gocardless_access_token or ""
            environment = provider._gocardless_get_environment()
            other_environment = "live" if environment == "sandbox" else "sandbox"
            if access_token.startswith(f"{other_environment}_"):
                raise ValidationError(
                    self.env._(
                        "GoCardless: the access token of %(provider)s is a "
                        "%(token_environment)s token, but the provider uses the "
                        "%(environment)s environment (Test Mode always uses the "
                        "sandbox).",
                        provider=provider.name,
                        token_environment=other_environment,
                        environment=environment,
                    )
                )

    @api.onchange("state")
    def _onchange_state_gocardless_environment(self):
        """Show the environment Test Mode really uses: the sandbox."""
        if self.code == "gocardless" and self.state == "test":
            self.gocardless_environment = "sandbox"

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_gocardless_test_connection(self):
        """Call the GoCardless API with the provider's credentials and tell
        whether it answers, and for which creditor.

        :return: a notification action
        :rtype: dict
        """
        self.ensure_one()
        try:
            creditors = self._gocardless_call("creditors", "list", params={"limit": 1})
        except ValidationError as error:
            message, notification_type = error.args[0], "danger"
        else:
            names = ", ".join(creditor.name for creditor in creditors.records)
            message = self.env._(
                "Connected to GoCardless (%(environment)s) as %(creditor)s.",
                environment=dict(
                    self._fields["gocardless_environment"]._description_selection(
                        self.env
                    )
                )[self._gocardless_get_environment()],
                creditor=names or self.env._("an account without creditor"),
            )
            notification_type = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": notification_type,
                "sticky": notification_type == "danger",
            },
        }

    # ------------------------------------------------------------------
    # Payment framework
    # ------------------------------------------------------------------

    @api.model
    def _get_compatible_providers(self, *args, report=None, **kwargs):
        """Override of `payment` to keep GoCardless out of Odoo's payment form:
        it only serves the registration of mandates and the automatic debits of
        this add-on."""
        providers = super()._get_compatible_providers(*args, report=report, **kwargs)
        unfiltered_providers = providers
        providers = providers.filtered(lambda p: p.code != "gocardless")
        payment_utils.add_to_report(
            report,
            unfiltered_providers - providers,
            available=False,
            reason=self.env._("only used for automatic debits"),
        )
        return providers

    def _get_supported_currencies(self):
        """Override of `payment` to return the currency of SEPA Core mandates."""
        supported_currencies = super()._get_supported_currencies()
        if self.code == "gocardless":
            supported_currencies = supported_currencies.filtered(
                lambda c: c.name == const.GOCARDLESS_CURRENCY
            )
        return supported_currencies

    def _get_default_payment_method_codes(self):
        """Override of `payment` to return the default payment method codes."""
        default_codes = super()._get_default_payment_method_codes()
        if self.code != "gocardless":
            return default_codes
        return const.GOCARDLESS_DEFAULT_PAYMENT_METHOD_CODES

    # ------------------------------------------------------------------
    # Registration of cards and mandates (generic hooks)
    # ------------------------------------------------------------------

    def _collection_get_registration_method_codes(self):
        """The payment methods this provider offers on the registration page.

        :return: codes among ``card`` and ``sepa_direct_debit``
        :rtype: list
        """
        self.ensure_one()
        if self.code != "gocardless":
            return []
        sepa_method = self.env.ref(
            "payment.payment_method_sepa_direct_debit", raise_if_not_found=False
        )
        currency = self.env.ref(f"base.{const.GOCARDLESS_CURRENCY}")
        if (
            not sepa_method
            or not sepa_method.active
            or sepa_method not in self.payment_method_ids
            or not currency.active
            or (
                self.available_currency_ids
                and currency not in self.available_currency_ids
            )
        ):
            return []
        return ["sepa_direct_debit"]

    def _collection_start_registration(self, registration):
        """Send the customer of ``registration`` to the provider's hosted page.

        Sets ``registration.provider_reference``; the caller marks the
        registration pending.

        :param registration: a ``collection.registration`` record
        :return: the URL of the provider's hosted page
        :rtype: str
        :raise UserError: when the provider cannot register cards or mandates
        """
        self.ensure_one()
        if self.code != "gocardless":
            raise UserError(
                self.env._(
                    "%(provider)s cannot save a card or a mandate for automatic "
                    "debits.",
                    provider=self.name,
                )
            )
        registration_sudo = registration.sudo()
        billing_request = self._gocardless_call(
            "billing_requests",
            "create",
            params=self._gocardless_prepare_billing_request_payload(registration_sudo),
            idempotency_key=registration_sudo._collection_get_idempotency_key(
                "billing_request"
            ),
        )
        registration_sudo.provider_reference = billing_request.id
        flow_payload = self._gocardless_prepare_flow_payload(
            registration_sudo, billing_request.id
        )
        try:
            flow = self._gocardless_call(
                "billing_request_flows",
                "create",
                params=flow_payload,
                idempotency_key=registration_sudo._collection_get_idempotency_key(
                    "flow"
                ),
            )
        except GoCardlessError as error:
            if "idempotent_creation_conflict" not in error.reasons:
                raise
            # The flow of an earlier attempt exists but a flow cannot be fetched:
            # open a new one on the same billing request (no payment is involved).
            flow = self._gocardless_call(
                "billing_request_flows", "create", params=flow_payload
            )
        _logger.info(
            "registration %s: gocardless billing request %s, flow %s",
            registration_sudo.id,
            billing_request.id,
            flow.id,
        )
        return flow.authorisation_url

    def _collection_fetch_registration(self, registration):
        """Ask the provider where ``registration`` is and complete or fail it
        accordingly; leave it as it is while the customer is still on the hosted
        page.

        :param registration: a ``collection.registration`` record
        """
        self.ensure_one()
        if self.code != "gocardless":
            return
        registration_sudo = registration.sudo()
        if (
            registration_sudo.state in ("done", "failed")
            or not registration_sudo.provider_reference
        ):
            return
        billing_request = self._gocardless_call(
            "billing_requests", "get", registration_sudo.provider_reference
        )
        status = billing_request.status
        if status == "fulfilled":
            mandate_id = billing_request.links.mandate_request_mandate
            if not mandate_id:
                _logger.warning(
                    "gocardless billing request %s is fulfilled without a mandate",
                    billing_request.id,
                )
                return
            mandate = self._gocardless_call("mandates", "get", mandate_id)
            registration_sudo._collection_complete(
                self._gocardless_prepare_token_values(mandate)
            )
        elif status in const.GOCARDLESS_BILLING_REQUEST_FAILED_STATUSES:
            registration_sudo._collection_fail(
                self.env._(
                    "The Direct Debit set-up was not completed at GoCardless (billing "
                    "request %(status)s).",
                    status=status,
                )
            )

    # ------------------------------------------------------------------
    # GoCardless: the SDK chokepoint
    # ------------------------------------------------------------------

    def _gocardless_get_environment(self):
        """The GoCardless environment of the provider: the sandbox in Test
        Mode, else the one chosen on the provider.

        :rtype: str
        """
        self.ensure_one()
        if self.state == "test":
            return "sandbox"
        return self.gocardless_environment or "sandbox"

    def _gocardless_client(self):
        """The GoCardless SDK client of the provider, with an explicit timeout.

        :rtype: gocardless_pro.Client
        :raise ValidationError: when the access token is not set
        """
        self.ensure_one()
        access_token = self.sudo().gocardless_access_token
        if not access_token:
            raise ValidationError(
                self.env._(
                    "GoCardless: the access token of %(provider)s is not set.",
                    provider=self.name,
                )
            )
        return gocardless_pro.Client(
            access_token=access_token,
            environment=self._gocardless_get_environment(),
            timeout=const.GOCARDLESS_TIMEOUT,
        )

    def _gocardless_call(
        self, service, method, *args, params=None, idempotency_key=None, debit=False
    ):
        """Make one call of the GoCardless SDK: ``client.<service>.<method>``.
        Nothing else in the add-on calls the GoCardless API.

        The SDK makes up to 3 attempts on timeouts and lost connections, with
        the same idempotency key; a creation whose key was already used returns
        the resource created the first time.

        :param str service: e.g. ``payments``, ``billing_requests``
        :param str method: e.g. ``create``, ``get``, ``list``
        :param args: the positional arguments of the SDK method (the id)
        :param dict params: the body (or query string) of the request
        :param str idempotency_key: the key of a creation: the same key for the
            same operation, so that it is never made twice
        :param bool debit: whether the call creates a debit, whose outcome is
            unknown when GoCardless does not answer
        :return: the SDK's resource (or list response)
        :raise GoCardlessError: when GoCardless refuses the request
        :raise ValidationError: when GoCardless cannot be reached
        :raise CollectionUnknownOutcome: for a debit, when GoCardless does not
            answer (timeout, lost connection, server error): the debit may or
            may not have been created
        """
        self.ensure_one()
        client = self._gocardless_client()
        kwargs = {}
        if params is not None:
            kwargs["params"] = params
        if idempotency_key:
            kwargs["headers"] = {"Idempotency-Key": idempotency_key}
        call = f"{service}.{method}"
        _logger.info(
            "gocardless call %s %s (provider %s, %s)",
            call,
            " ".join(str(arg) for arg in args),
            self.id,
            self._gocardless_get_environment(),
        )
        try:
            return getattr(getattr(client, service), method)(*args, **kwargs)
        except (
            requests.exceptions.Timeout,
            requests.exceptions.ConnectionError,
        ) as error:
            _logger.warning(
                "gocardless call %s got no answer: %s", call, type(error).__name__
            )
            if debit:
                raise CollectionUnknownOutcome(
                    self.env._(
                        "GoCardless did not answer (%(error)s): the debit will be "
                        "sent again with the same key.",
                        error=type(error).__name__,
                    )
                ) from error
            raise ValidationError(
                self.env._(
                    "GoCardless: the API could not be reached (%(error)s). Please try "
                    "again later.",
                    error=type(error).__name__,
                )
            ) from error
        except gocardless_errors.MalformedResponseError as error:
            _logger.warning(
                "gocardless call %s got a malformed answer (HTTP %s)",
                call,
                error.status_code,
            )
            if debit and (error.status_code is None or error.status_code >= 500):
                raise CollectionUnknownOutcome(
                    self.env._(
                        "GoCardless answered with an error (HTTP %(status)s): the "
                        "debit will be sent again with the same key.",
                        status=error.status_code,
                    )
                ) from error
            raise GoCardlessError(
                self.env._(
                    "GoCardless: the API sent an unexpected answer (HTTP %(status)s). "
                    "Please try again later.",
                    status=error.status_code,
                ),
                status=error.status_code,
            ) from error
        except gocardless_errors.ApiError as error:
            reasons = [
                item.get("reason")
                for item in (error.errors or [])
                if item.get("reason")
            ]
            _logger.warning(
                "gocardless call %s refused: HTTP %s %s %s (request %s)",
                call,
                error.code,
                error.type,
                ",".join(reasons),
                error.request_id,
            )
            if debit and isinstance(
                error,
                gocardless_errors.GoCardlessInternalError
                | gocardless_errors.RateLimitError,
            ):
                raise CollectionUnknownOutcome(
                    self.env._(
                        "GoCardless could not process the debit now (%(message)s): it "
                        "will be sent again with the same key.",
                        message=error.message,
                    )
                ) from error
            raise GoCardlessError(
                self.env._("GoCardless: %(message)s", message=str(error)),
                error_type=error.type,
                reasons=reasons,
                status=error.code,
            ) from error
        except gocardless_errors.GoCardlessProError as error:
            _logger.warning("gocardless call %s failed: %s", call, error)
            raise GoCardlessError(
                self.env._("GoCardless: %(message)s", message=str(error))
            ) from error

    # ------------------------------------------------------------------
    # GoCardless: payloads
    # ------------------------------------------------------------------

    def _gocardless_prepare_billing_request_payload(self, registration):
        """The billing request of a SEPA Core mandate in EUR.

        :param registration: the ``collection.registration``, sudo
        :rtype: dict
        """
        return {
            "mandate_request": {
                "scheme": const.GOCARDLESS_SCHEME,
                "currency": const.GOCARDLESS_CURRENCY,
            },
            "metadata": {"odoo_registration_id": str(registration.id)},
        }

    def _gocardless_prepare_flow_payload(self, registration, billing_request_id):
        """The hosted page of the billing request, prefilled with the
        customer's details, back to Odoo's return route when done and to the
        registration link when the customer leaves.

        :param registration: the ``collection.registration``, sudo
        :param str billing_request_id: ``BRQ…``
        :rtype: dict
        """
        return_url = url_join(self.get_base_url(), GoCardlessController._return_url)
        query = url_encode(
            {
                "registration_id": registration.id,
                "access_token": registration.access_token,
            }
        )
        payload = {
            "redirect_uri": f"{return_url}?{query}",
            "exit_uri": registration._collection_get_link_url(),
            "links": {"billing_request": billing_request_id},
            "prefilled_customer": self._gocardless_prepare_prefilled_customer(
                registration.partner_id
            ),
            "lock_customer_details": False,
        }
        language = (registration.partner_id.lang or "").split("_")[0]
        if language in const.GOCARDLESS_LANGUAGES:
            payload["language"] = language
        return payload

    @api.model
    def _gocardless_prepare_prefilled_customer(self, partner):
        """The customer's details GoCardless's hosted page is prefilled with.

        :param partner: the commercial partner
        :rtype: dict
        """
        if partner.is_company:
            values = {"company_name": partner.name}
        else:
            given_name, __, family_name = (partner.name or "").strip().partition(" ")
            values = {"given_name": given_name, "family_name": family_name.strip()}
        values.update(
            email=partner.email,
            address_line1=partner.street,
            address_line2=partner.street2,
            city=partner.city,
            postal_code=partner.zip,
            country_code=partner.country_id.code,
        )
        return {key: value for key, value in values.items() if value}

    def _gocardless_prepare_token_values(self, mandate):
        """The values of the ``payment.token`` of a GoCardless mandate.

        :param mandate: the SDK's ``Mandate``
        :rtype: dict
        """
        return {
            "provider_ref": mandate.id,
            "payment_details": mandate.reference,
            "payment_method_id": self.env.ref(
                "payment.payment_method_sepa_direct_debit"
            ).id,
            "collection_mandate_status": mandate.status,
        }

    # ------------------------------------------------------------------
    # GoCardless: mandate events
    # ------------------------------------------------------------------

    def _gocardless_process_mandate_event(
        self, mandate_id, action, details=None, cache=None
    ):
        """Bring the tokens of a mandate up to date after a GoCardless event:
        its current status (events may arrive out of order), its replacement,
        or the end of the debits when it can no longer be debited.

        :param str mandate_id: ``MD…``
        :param str action: the event's action (``active``, ``cancelled``...)
        :param dict details: the event's ``details``
        :param dict cache: the resources already fetched for the webhook's
            batch, by ``(resource_type, id)``: a mandate is fetched once per batch
        :return: whether a token of these providers uses the mandate
        :rtype: bool
        """
        tokens = (
            self.env["payment.token"]
            .sudo()
            .search(
                [("provider_id", "in", self.ids), ("provider_ref", "=", mandate_id)]
            )
        )
        if not mandate_id or not tokens:
            return False
        provider = tokens.provider_id[:1]
        cache = {} if cache is None else cache
        mandate = cache.get(("mandates", mandate_id))
        if mandate is None:
            mandate = provider._gocardless_call("mandates", "get", mandate_id)
            cache[("mandates", mandate_id)] = mandate
        new_mandate_id = mandate.links.new_mandate
        if action == "replaced" and new_mandate_id:
            new_mandate = provider._gocardless_call("mandates", "get", new_mandate_id)
            tokens.write(
                {
                    "provider_ref": new_mandate.id,
                    "payment_details": new_mandate.reference,
                    "collection_mandate_status": new_mandate.status,
                }
            )
            _logger.info(
                "gocardless mandate %s replaced by %s", mandate_id, new_mandate_id
            )
            return True
        tokens.collection_mandate_status = mandate.status
        if mandate.status in const.GOCARDLESS_MANDATE_INACTIVE_STATUSES:
            description = (details or {}).get("description")
            values = {
                "reference": mandate.reference or mandate.id,
                "status": mandate.status.replace("_", " "),
                "description": description,
            }
            if description:
                reason = self.env._(
                    "GoCardless reports the mandate %(reference)s as %(status)s: "
                    "%(description)s",
                    **values,
                )
            else:
                reason = self.env._(
                    "GoCardless reports the mandate %(reference)s as %(status)s.",
                    **values,
                )
            tokens._collection_deactivate(reason)
        return True
