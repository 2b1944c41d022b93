# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import logging
import secrets

from werkzeug.urls import url_encode

from odoo import api, fields, models
from odoo.tools import SQL, consteq

_logger = logging.getLogger(__name__)


class CollectionRegistration(models.Model):
    """One attempt of a customer to save a card or a SEPA mandate from their
    registration link, on the provider's hosted page."""

    _name = "collection.registration"
    _description = "Card or Mandate Registration"
    _order = "id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, readonly=True, index=True
    )
    provider_id = fields.Many2one(
        comodel_name="payment.provider",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    provider_code = fields.Selection(related="provider_id.code")
    payment_method_code = fields.Selection(
        selection=[
            ("card", "Card"),
            ("sepa_direct_debit", "SEPA Direct Debit"),
        ],
        string="Payment Method",
        required=True,
        readonly=True,
    )
    provider_reference = fields.Char(
        readonly=True,
        help="The provider's reference of the hosted page: a Stripe Checkout "
        "Session or a GoCardless billing request.",
    )
    state = fields.Selection(
        selection=[
            ("draft", "Started"),
            ("pending", "On the provider's page"),
            ("done", "Saved"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
    )
    state_message = fields.Char(string="Message", readonly=True)
    hosted_url = fields.Char(
        string="Provider's Page",
        readonly=True,
        groups="base.group_system",
        help="The provider's page the customer was sent to; sent again when the "
        "customer submits the form twice.",
    )
    token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Saved Card or Mandate",
        readonly=True,
    )
    access_token = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        groups="base.group_system",
        default=lambda self: secrets.token_urlsafe(24),
    )

    _sql_constraints = [
        (
            "provider_reference_unique",
            "UNIQUE(provider_id, provider_reference)",
            "A hosted page belongs to one registration.",
        ),
    ]

    @api.model
    def _collection_find(self, provider, provider_reference):
        """The registration of ``provider`` with that reference, sudo."""
        if not provider_reference or not isinstance(provider_reference, str):
            return self.sudo().browse()
        return self.sudo().search(
            [
                ("provider_id", "=", provider.id),
                ("provider_reference", "=", provider_reference),
            ],
            limit=1,
        )

    def _collection_check_access_token(self, access_token):
        self.ensure_one()
        return (
            isinstance(access_token, str)
            and bool(access_token)
            and consteq(self.sudo().access_token, access_token)
        )

    # ------------------------------------------------------------------
    # URLs and keys for the providers
    # ------------------------------------------------------------------

    def _collection_get_confirmation_url(self):
        self.ensure_one()
        query = url_encode({"access_token": self.sudo().access_token})
        return (
            f"{self.company_id.get_base_url()}"
            f"/collection/register/confirm/{self.id}?{query}"
        )

    def _collection_get_link_url(self):
        self.ensure_one()
        return self.partner_id.with_company(self.company_id).collection_registration_url

    def _collection_get_idempotency_key(self, step):
        """The key of the provider call ``step`` of this registration: the same
        when the customer's browser sends the form twice or the call is retried."""
        self.ensure_one()
        source = "{}-registration-{}-{}".format(
            self.env["ir.config_parameter"].sudo().get_param("database.uuid"),
            self.id,
            step,
        )
        return hashlib.sha1(source.encode()).hexdigest()

    # ------------------------------------------------------------------
    # Outcome
    # ------------------------------------------------------------------

    def _collection_lock(self):
        """Lock this registration: the webhook and the return page may complete
        it at the same time; the second waits, then sees the first's outcome."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM collection_registration WHERE id IN %s"
                " FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["state", "token_id"])

    def _collection_complete(self, token_values):
        """Save the customer's card or mandate once and collect from it.

        :param dict token_values: the provider's values of the ``payment.token``
            (``provider_ref``, ``payment_details``, ``payment_method_id``...)
        :return: the token, sudo
        """
        self.ensure_one()
        registration = self.sudo()
        registration._collection_lock()
        if registration.state == "done":
            return registration.token_id
        partner = registration.partner_id.with_company(registration.company_id)
        token = (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": registration.provider_id.id,
                    "partner_id": partner.id,
                    **token_values,
                }
            )
        )
        registration.write(
            {"state": "done", "token_id": token.id, "state_message": False}
        )
        partner._collection_start_automatic(token, registration)
        _logger.info(
            "registration %s of partner %s saved token %s",
            registration.id,
            partner.id,
            token.id,
        )
        return token

    def _collection_fail(self, reason):
        """Record that this attempt failed (the customer left the page, the
        session expired, the bank refused...), once; grey-list the customer after
        too many consecutive failures."""
        self.ensure_one()
        registration = self.sudo()
        registration._collection_lock()
        if registration.state in ("done", "failed"):
            return
        registration.write({"state": "failed", "state_message": reason})
        registration.partner_id.with_company(
            registration.company_id
        )._collection_count_registration_failure(registration)
