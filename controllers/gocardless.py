# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from gocardless_pro import webhooks as gocardless_webhooks
from gocardless_pro.errors import InvalidSignatureError

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools import consteq, mute_logger

from .. import const

_logger = logging.getLogger(__name__)


class _EventIgnored(Exception):
    """An event this database has nothing to do with: its claim is undone."""


class GoCardlessController(http.Controller):
    _return_url = "/payment/gocardless/return"
    _webhook_url = "/payment/gocardless/webhook"

    @http.route(
        _return_url,
        type="http",
        auth="public",
        methods=["GET"],
        save_session=False,
        sitemap=False,
    )
    def gocardless_return(self, registration_id=None, access_token=None, **kwargs):
        """The customer is back from GoCardless's hosted page: complete the
        registration if GoCardless says it is (the webhook may do it first), then
        show the confirmation page.

        :param str registration_id: the ``collection.registration`` id
        :param str access_token: the registration's access token
        """
        try:
            registration_sudo = (
                request.env["collection.registration"]
                .sudo()
                .browse(int(registration_id))
                .exists()
            )
        except (TypeError, ValueError):
            raise request.not_found() from None
        if (
            not registration_sudo
            or registration_sudo.provider_code != "gocardless"
            or not isinstance(access_token, str)
            or not access_token
            or not consteq(registration_sudo.access_token or "", access_token)
        ):
            raise request.not_found()
        try:
            with request.env.cr.savepoint():
                registration_sudo.provider_id.with_company(
                    registration_sudo.company_id
                )._collection_fetch_registration(registration_sudo)
        except ValidationError as error:
            # The webhook completes the registration; the page says it is pending.
            _logger.warning(
                "registration %s could not be fetched from gocardless: %s",
                registration_sudo.id,
                error.args[0],
            )
        with mute_logger("werkzeug"):  # The URLs carry the access token.
            return request.redirect(
                registration_sudo._collection_get_confirmation_url(), code=303
            )

    @http.route(
        _webhook_url,
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def gocardless_webhook(self):
        """Process a batch of GoCardless events (up to 250).

        The signature is verified with the SDK before anything else is read
        or written: a missing or bad signature, or no webhook secret configured,
        gets 498 and nothing happens. Each event is then processed once (its id
        is claimed in the database) in its own savepoint.

        :return: 204 when no event of the batch concerns this database, 200
            when all of those that do were processed, 500 when one of them could
            not be: it is not claimed and GoCardless's retry of the batch
            processes it (the others are then skipped as replays)
        """
        body = request.httprequest.get_data()
        signature = request.httprequest.headers.get("Webhook-Signature")
        if isinstance(signature, bytes):
            signature = signature.decode("latin-1")
        if not signature or not signature.isascii() or not body:
            _logger.warning("gocardless webhook without signature refused")
            return self._gocardless_response(498, "Invalid signature")
        providers_sudo, events = self._gocardless_verify_signature(body, signature)
        if events is None:
            _logger.warning("gocardless webhook with an invalid signature refused")
            return self._gocardless_response(498, "Invalid signature")
        if not providers_sudo:  # Signed, but not a batch of events.
            return self._gocardless_response(400, "Malformed webhook")

        handled = failed = 0
        cache = {}  # The resources fetched from GoCardless for this batch.
        for event in events:
            outcome = self._gocardless_process_event(
                providers_sudo, event.attributes, cache
            )
            handled += outcome is True
            failed += outcome is None
        _logger.info(
            "gocardless webhook: %s events, %s handled, %s failed",
            len(events),
            handled,
            failed,
        )
        if failed:
            return self._gocardless_response(500, "Retry later")
        if not handled:
            return self._gocardless_response(204)
        return self._gocardless_response(200)

    @staticmethod
    def _gocardless_response(status, text=""):
        return request.make_response(
            text, headers=[("Content-Type", "text/plain; charset=utf-8")], status=status
        )

    @staticmethod
    def _gocardless_verify_signature(body, signature):
        """Find the providers whose webhook secret signed ``body``.

        :return: ``(providers, events)``; ``events`` is None when no secret
            matches; ``providers`` is empty when the body is signed but is not a
            batch of events
        """
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            .search(
                [("code", "=", "gocardless"), ("state", "in", ("enabled", "test"))],
                order="id",
            )
        )
        matching_providers = providers_sudo.browse()
        matching_secret = events = None
        for provider_sudo in providers_sudo:
            secret = provider_sudo.gocardless_webhook_secret
            if not secret:
                continue
            if matching_secret is not None:
                if secret == matching_secret:  # Same account, another company.
                    matching_providers |= provider_sudo
                continue
            try:
                events = gocardless_webhooks.parse(body, secret, signature)
            except InvalidSignatureError:
                continue
            except (ValueError, KeyError, TypeError):
                _logger.warning("gocardless webhook with a malformed body refused")
                return providers_sudo.browse(), []
            matching_secret = secret
            matching_providers = provider_sudo
        return matching_providers, events

    def _gocardless_process_event(self, providers_sudo, event, cache):
        """Claim and dispatch one event in its own savepoint.

        :param dict cache: the resources already fetched from GoCardless for
            the batch, by ``(resource_type, id)``

        :return: True when processed (now or before: a replay), False when it
            does not concern this database, None when its processing failed
        """
        resource_type = event.get("resource_type")
        action = event.get("action")
        if action not in const.GOCARDLESS_HANDLED_EVENTS.get(resource_type, ()):
            return False
        Event = request.env["collection.provider.event"].sudo()
        try:
            with request.env.cr.savepoint():
                if not Event._collection_claim(
                    providers_sudo[:1], event.get("id"), f"{resource_type}.{action}"
                ):
                    return True  # Already processed.
                if not self._gocardless_dispatch_event(providers_sudo, event, cache):
                    raise _EventIgnored()
        except _EventIgnored:
            return False
        except Exception:  # noqa: BLE001 - one event never stops the others
            _logger.exception(
                "gocardless event %s (%s.%s) could not be processed",
                event.get("id"),
                resource_type,
                action,
            )
            return None
        return True

    def _gocardless_dispatch_event(self, providers_sudo, event, cache):
        """Hand the event to the model it concerns.

        :return: whether the event concerns this database
        :rtype: bool
        """
        resource_type = event["resource_type"]
        links = event.get("links") or {}
        details = event.get("details") or {}
        if resource_type == "payments":
            Transaction = request.env["payment.transaction"].sudo()
            notification_data = {
                "provider_id": providers_sudo[:1].id,
                "payment_id": links.get("payment"),
                "event_id": event.get("id"),
                "action": event.get("action"),
                "cause": details.get("cause"),
                "description": details.get("description"),
                "gocardless_cache": cache,
            }
            if "resource_metadata" in event:  # The payment's metadata.
                notification_data["reference"] = (
                    Transaction._gocardless_get_reference_from_metadata(
                        event["resource_metadata"]
                    )
                )
            try:
                tx_sudo = Transaction._get_tx_from_notification_data(
                    "gocardless", notification_data
                )
            except ValidationError:
                if notification_data.get("reference"):
                    raise  # A debit of this database not committed yet: retried.
                return False  # A payment made outside of this database.
            if tx_sudo.provider_id not in providers_sudo:
                return False
            tx_sudo.with_company(tx_sudo.company_id)._handle_notification_data(
                "gocardless", notification_data
            )
            return True
        if resource_type == "mandates":
            return providers_sudo.with_company(
                providers_sudo[:1].company_id
            )._gocardless_process_mandate_event(
                links.get("mandate"), event.get("action"), details, cache=cache
            )
        if resource_type == "payouts":
            return providers_sudo.with_company(
                providers_sudo[:1].company_id
            )._gocardless_collection_process_payout(links.get("payout"), cache=cache)
        if resource_type == "billing_requests":
            Registration = request.env["collection.registration"].sudo()
            for provider_sudo in providers_sudo:
                registration_sudo = Registration._collection_find(
                    provider_sudo, links.get("billing_request")
                )
                if registration_sudo:
                    provider_sudo.with_company(
                        registration_sudo.company_id
                    )._collection_fetch_registration(registration_sudo)
                    return True
        return False
