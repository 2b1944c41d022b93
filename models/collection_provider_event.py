# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL


class CollectionProviderEvent(models.Model):
    """The provider events already processed: webhooks are retried and replayed,
    each event id is processed once, which the database guarantees."""

    _name = "collection.provider.event"
    _description = "Processed Payment Provider Event"
    _order = "id desc"
    _log_access = False

    provider_id = fields.Many2one(
        comodel_name="payment.provider",
        required=True,
        ondelete="cascade",
        readonly=True,
    )
    event_id = fields.Char(required=True, readonly=True)
    event_type = fields.Char(readonly=True)
    received_at = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now
    )

    _sql_constraints = [
        (
            "event_unique",
            "UNIQUE(provider_id, event_id)",
            "This provider event was already processed.",
        ),
    ]

    @api.model
    def _collection_claim(self, provider, event_id, event_type=None):
        """Record that ``event_id`` of ``provider`` is being processed.

        A concurrent delivery of the same event waits for the first one's
        transaction and then sees it: the first commits its processing with the
        claim, or rolls both back (and the provider's retry is processed).

        :return: whether the event is new (False for a replay)
        :rtype: bool
        """
        self.env.cr.execute(
            SQL(
                "INSERT INTO collection_provider_event"
                " (provider_id, event_id, event_type, received_at)"
                " VALUES (%s, %s, %s, now() AT TIME ZONE 'UTC')"
                " ON CONFLICT (provider_id, event_id) DO NOTHING RETURNING id",
                provider.id,
                str(event_id),
                event_type,
            )
        )
        return bool(self.env.cr.fetchone())

    @api.autovacuum
    def _gc_events(self):
        """Forget events older than the providers' retry windows (GoCardless
        and Stripe retry for a few days)."""
        self.env.cr.execute(
            SQL(
                "DELETE FROM collection_provider_event"
                " WHERE received_at < now() AT TIME ZONE 'UTC' - interval '90 days'"
            )
        )
