# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

import stripe
from werkzeug.exceptions import BadRequest, Forbidden

from odoo import http
from odoo.http import request

from odoo.addons.payment_stripe import utils as stripe_utils
from odoo.addons.payment_stripe.const import HANDLED_WEBHOOK_EVENTS
from odoo.addons.payment_stripe.controllers.main import StripeController

from ..const import STRIPE_COLLECTION_EVENTS

_logger = logging.getLogger(__name__)


class CollectionStripeController(StripeController):
    @http.route(
        StripeController._webhook_url,
        type="http",
        methods=["POST"],
        auth="public",
        csrf=False,
    )
    def stripe_webhook(self):
        """Override of `payment_stripe` to verify every event with the SDK before
        anything else is read (no valid signature of an enabled Stripe provider:
        403), to process each event once, and to handle the events of automatic
        collection (registrations, disputes, mandates).

        :return: An empty JSON string to acknowledge the event.
        :raise Forbidden: when no Stripe provider signed the event
        """
        provider_sudo, event = self._collection_verify_stripe_event()
        event_type = event["type"]
        if event_type not in STRIPE_COLLECTION_EVENTS + tuple(HANDLED_WEBHOOK_EVENTS):
            return request.make_json_response("")
        with request.env.cr.savepoint():
            Event = request.env["collection.provider.event"].sudo()
            if not Event._collection_claim(provider_sudo, event["id"], event_type):
                _logger.info("stripe event %s already processed", event["id"])
                return request.make_json_response("")
            if event_type not in STRIPE_COLLECTION_EVENTS:
                return super().stripe_webhook()
            provider_sudo._stripe_collection_handle_event(
                event_type, event["data"]["object"]
            )
        return request.make_json_response("")

    def _collection_verify_stripe_event(self):
        """Verify the signature of the event posted, with the webhook secret of
        each Stripe provider not disabled.

        :return: the provider whose secret signed the event (sudo) and the event
        :rtype: tuple(payment.provider, dict)
        :raise Forbidden: when none did (bad or missing signature, no secret)
        """
        payload = request.httprequest.get_data()
        signature = request.httprequest.headers.get("Stripe-Signature")
        if signature:
            providers_sudo = (
                request.env["payment.provider"]
                .sudo()
                .search([("code", "=", "stripe"), ("state", "!=", "disabled")])
            )
            for provider_sudo in providers_sudo:
                secret = stripe_utils.get_webhook_secret(provider_sudo)
                if not secret:
                    continue
                try:
                    event = stripe.Webhook.construct_event(
                        payload,
                        signature,
                        secret,
                        tolerance=self.WEBHOOK_AGE_TOLERANCE,
                    )
                except stripe.SignatureVerificationError:
                    continue
                except ValueError as error:  # signed, but not an event
                    raise BadRequest() from error
                return provider_sudo, event.to_dict()
        _logger.warning("stripe webhook refused: no valid signature")
        raise Forbidden()
