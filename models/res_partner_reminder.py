# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.tools.misc import format_amount

_logger = logging.getLogger(__name__)


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_reminder_excluded = fields.Boolean(
        string="Excluded from Reminders",
        tracking=True,
        help="No payment reminder is sent to this customer, whatever their overdue "
        "invoices. Contacts follow their company.",
    )

    @api.model
    def _commercial_fields(self):
        """Override of `base` so that contacts are excluded from reminders like
        their company."""
        return super()._commercial_fields() + ["collection_reminder_excluded"]

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _collection_send_reminder(self, moves, levels_by_move):
        """Send this customer one payment reminder listing ``moves`` at the
        highest of the levels due, and record each invoice's level as sent in the
        log (which gives the invoices their last level), in the current
        transaction. The e-mail is posted on the customer and queued: the mail
        queue sends it after the commit.

        :param moves: the customer's overdue ``account.move`` listed in the e-mail
        :param dict levels_by_move: ``{account.move: collection.reminder.level}``,
                                    the invoices whose next level is due
        :return: the e-mail's ``mail.message``, or ``False`` when the customer has
                 no e-mail address (nothing is recorded then)
        :raise: ``psycopg2.IntegrityError`` (at flush) if a level was already sent
        """
        self.ensure_one()
        recipients = moves.partner_id.filtered("email") or self.filtered("email")
        if not recipients:
            _logger.info("partner %s has no e-mail address: not reminded", self.id)
            return False
        level = max(levels_by_move.values(), key=lambda level: level.days_after_due)
        moves._collection_ensure_access_token()
        partner = self.with_context(
            collection_reminder_move_ids=moves.ids, mail_notify_force_send=False
        )
        # The templates render in this context, which says what to list.
        message = partner.message_post_with_source(
            level.mail_template_id.with_env(partner.env),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=recipients.ids,
            email_layout_xmlid="mail.mail_notification_light",
        )
        if level.send_sms and level.sms_template_id and (self.mobile or self.phone):
            partner._message_sms_with_template(
                template=level.sms_template_id.with_env(partner.env),
                put_in_queue=True,
            )
        today = fields.Date.context_today(self)
        self.env["collection.reminder.log"].sudo().create(
            [
                {
                    "move_id": move.id,
                    "level_id": move_level.id,
                    "partner_id": self.id,
                    "date": today,
                    "company_id": move.company_id.id,
                    "mail_message_id": message[:1].id,
                }
                for move, move_level in levels_by_move.items()
            ]
        )
        Move = self.env["account.move"]
        reminded = Move.union(*levels_by_move)
        reminded._message_log_batch(
            bodies={
                move.id: self.env._(
                    "Payment reminder sent to %(partner)s: %(level)s.",
                    partner=self.display_name,
                    level=levels_by_move[move].name,
                )
                for move in reminded
            }
        )
        return message

    # ------------------------------------------------------------------
    # Rendering (used by the reminder templates, rendered on the customer)
    # ------------------------------------------------------------------

    def _collection_get_reminder_moves(self):
        """Return the invoices listed in the reminder being rendered: those given
        by the sending in the context, else (template preview) the customer's
        overdue invoices in the current company."""
        self.ensure_one()
        Move = self.env["account.move"]
        move_ids = self.env.context.get("collection_reminder_move_ids")
        if move_ids is not None:
            return Move.browse(move_ids)
        return Move.search(
            Move._collection_get_reminder_domain(self.env.company)
            + [("commercial_partner_id", "=", self.commercial_partner_id.id)],
            order="invoice_date_due, id",
        )

    def _collection_get_reminder_company(self):
        self.ensure_one()
        return self._collection_get_reminder_moves().company_id[:1] or self.env.company

    def _collection_get_reminder_total(self):
        """Return the amount due on the listed invoices, formatted, per currency."""
        self.ensure_one()
        moves = self._collection_get_reminder_moves()
        return " + ".join(
            format_amount(
                self.env, sum(currency_moves.mapped("amount_residual")), currency
            )
            for currency, currency_moves in moves.grouped("currency_id").items()
        )

    def _collection_get_reminder_overdue_url(self):
        """Return the portal page where the customer, once logged in, pays all the
        listed invoices at once, or an empty string when it cannot serve them
        (no portal user, several currencies or invoice addresses)."""
        self.ensure_one()
        moves = self._collection_get_reminder_moves()
        if len(moves) < 2 or len(moves.currency_id) > 1 or len(moves.partner_id) > 1:
            return ""
        has_portal_user = (
            self.env["res.users"]
            .sudo()
            .search_count(
                [("partner_id", "=", moves.partner_id.id), ("share", "=", True)],
                limit=1,
            )
        )
        if not has_portal_user:
            return ""
        return f"{moves[:1].get_base_url()}/my/invoices/overdue"

    def _collection_get_reminder_pay_url(self):
        """Return one link to pay online, for text messages: the invoice's own
        link when there is one invoice, the portal's overdue invoices page when the
        customer can log in, else the link of the oldest invoice."""
        self.ensure_one()
        moves = self._collection_get_reminder_moves()
        if not moves:
            return ""
        if len(moves) > 1 and (url := self._collection_get_reminder_overdue_url()):
            return url
        return moves[0]._collection_get_reminder_invoice_url()
