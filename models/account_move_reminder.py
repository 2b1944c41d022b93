# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import uuid

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_reminder_log_ids = fields.One2many(
        comodel_name="collection.reminder.log",
        inverse_name="move_id",
        string="Reminders Sent",
        readonly=True,
    )
    # Read from the log, the single record of what was sent: stored for the
    # job's search and the list views, and computed without going through
    # account.move's write (which would resynchronise the journal items).
    collection_reminder_level_id = fields.Many2one(
        comodel_name="collection.reminder.level",
        string="Last Reminder",
        compute="_compute_collection_reminder",
        store=True,
        help="The last payment reminder sent for this invoice.",
    )
    collection_reminder_date = fields.Date(
        string="Last Reminder Date",
        compute="_compute_collection_reminder",
        store=True,
    )

    @api.depends(
        "collection_reminder_log_ids.level_id.days_after_due",
        "collection_reminder_log_ids.date",
    )
    def _compute_collection_reminder(self):
        for move in self:
            last_log = max(
                move.collection_reminder_log_ids,
                key=lambda log: (log.level_id.days_after_due, log.id),
                default=self.env["collection.reminder.log"],
            )
            move.collection_reminder_level_id = last_log.level_id
            move.collection_reminder_date = last_log.date

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_collection_send_reminder(self):
        """Send this invoice's customer their next payment reminder now: one
        e-mail listing all their overdue invoices, at the next level of this
        invoice (even if its number of days is not reached yet), together with the
        other invoices whose next level is due."""
        self.ensure_one()
        # Invoicing users may remind the customers of the invoices they can edit,
        # even without the right to edit contacts (the e-mail is posted on the
        # customer, as superuser, under their name).
        self.check_access("write")
        self._collection_check_reminder_allowed()
        company = self.company_id
        levels = self.env["collection.reminder.level"].search(
            [("company_id", "=", company.id)], order="days_after_due, id"
        )
        if not levels:
            raise UserError(
                self.env._(
                    "No reminder level is configured for %(company)s: add one in "
                    "Invoicing > Configuration > Reminder Levels.",
                    company=company.name,
                )
            )
        partner = self.commercial_partner_id
        moves = self.search(
            self._collection_get_reminder_domain(company)
            + [("commercial_partner_id", "=", partner.id)],
            order="invoice_date_due, id",
        )
        levels_by_move = moves._collection_get_due_reminder_levels(levels)
        if self not in levels_by_move:
            last_days = self.collection_reminder_level_id.days_after_due
            next_level = levels.filtered(lambda level: level.days_after_due > last_days)
            if not next_level:
                raise UserError(
                    self.env._(
                        "The last reminder level (%(level)s) was already sent for "
                        "invoice %(invoice)s.",
                        level=self.collection_reminder_level_id.name,
                        invoice=self.name,
                    )
                )
            levels_by_move[self] = next_level[0]
        try:
            with self.env.cr.savepoint():
                message = (
                    partner.sudo()
                    .with_company(company)
                    ._collection_send_reminder(moves.sudo(), levels_by_move)
                )
        except IntegrityError as error:
            raise UserError(
                self.env._(
                    "This reminder is already being sent for invoice %(invoice)s.",
                    invoice=self.name,
                )
            ) from error
        if not message:
            raise UserError(
                self.env._(
                    "%(partner)s has no e-mail address: add one to send payment "
                    "reminders.",
                    partner=partner.display_name,
                )
            )
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        return True

    # ------------------------------------------------------------------
    # Business
    # ------------------------------------------------------------------

    def _collection_check_reminder_allowed(self):
        """Raise a ``UserError`` explaining why this invoice cannot be reminded."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(
                self.env._(
                    "Payment reminders are only sent for posted customer invoices."
                )
            )
        if self.payment_state not in ("not_paid", "partial"):
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s is paid: there is nothing to remind.",
                    invoice=self.name,
                )
            )
        if self.collection_block_reason:
            reason = dict(
                self._fields["collection_block_reason"]._description_selection(self.env)
            ).get(self.collection_block_reason)
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s is blocked (%(reason)s): it receives no "
                    "reminder.",
                    invoice=self.name,
                    reason=reason,
                )
            )
        if (
            not self.invoice_date_due
            or self.invoice_date_due >= fields.Date.context_today(self)
        ):
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s is not overdue yet (due on %(date)s).",
                    invoice=self.name,
                    date=self.invoice_date_due,
                )
            )
        if self.commercial_partner_id.collection_reminder_excluded:
            raise UserError(
                self.env._(
                    "%(partner)s is excluded from payment reminders.",
                    partner=self.commercial_partner_id.display_name,
                )
            )

    @api.model
    def _collection_get_reminder_domain(self, company):
        """Return the domain of the invoices of ``company`` that may be reminded:
        posted customer invoices, overdue, unpaid or partly paid, not blocked
        (payment plan, dispute...), of customers not excluded from reminders."""
        return [
            ("company_id", "=", company.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("invoice_date_due", "<", fields.Date.context_today(self)),
            ("collection_block_reason", "=", False),
            ("commercial_partner_id.collection_reminder_excluded", "=", False),
        ]

    def _collection_get_due_reminder_levels(self, levels):
        """Return the invoices of ``self`` whose next reminder level is due, with
        that level: the highest level whose number of days is reached, above the
        last level sent.

        :param levels: the ``collection.reminder.level`` of the invoices' company
        :return: ``{account.move: collection.reminder.level}``
        :rtype: dict
        """
        today = fields.Date.context_today(self)
        levels = levels.sorted(lambda level: (level.days_after_due, level.id))
        levels_by_move = {}
        for move in self:
            overdue_days = (today - move.invoice_date_due).days
            last_days = move.collection_reminder_level_id.days_after_due
            due_levels = [
                level
                for level in levels
                if last_days < level.days_after_due <= overdue_days
            ]
            if due_levels:
                levels_by_move[move] = due_levels[-1]
        return levels_by_move

    @api.model
    def _collection_prepare_reminders(self):
        """Return the reminders to send, one per customer and company, with ids
        only (they survive the commits of the job).

        :return: list of ``(company_id, partner_id, move_ids, {move_id: level_id})``
                 where ``move_ids`` are all the customer's overdue invoices (listed
                 in the e-mail) and the dict holds those whose next level is due
        :rtype: list
        """
        reminders = []
        levels_by_company = (
            self.env["collection.reminder.level"].search([]).grouped("company_id")
        )
        for company, levels in levels_by_company.items():
            moves = self.search_fetch(
                self._collection_get_reminder_domain(company),
                [
                    "commercial_partner_id",
                    "invoice_date_due",
                    "collection_reminder_level_id",
                ],
                order="invoice_date_due, id",
            )
            levels_by_move = moves._collection_get_due_reminder_levels(levels)
            if not levels_by_move:
                continue
            moves_by_partner = moves.grouped("commercial_partner_id")
            partners = {move.commercial_partner_id for move in levels_by_move}
            for partner in sorted(partners, key=lambda partner: partner.id):
                partner_moves = moves_by_partner[partner]
                reminders.append(
                    (
                        company.id,
                        partner.id,
                        partner_moves.ids,
                        {
                            move.id: levels_by_move[move].id
                            for move in partner_moves
                            if move in levels_by_move
                        },
                    )
                )
        return reminders

    @api.model
    def _cron_send_reminders(self, auto_commit=None):
        """Send every customer whose overdue invoices reached their next reminder
        level one e-mail (and SMS if the level says so) listing all their overdue
        invoices, and record the level sent on each invoice.

        Each customer is sent in its own savepoint, together with the records that
        say it was sent (the ``collection.reminder.log`` rows, unique per invoice
        and level, and the invoices' last level); the e-mails are queued, not sent
        inline. Run by the scheduler, the job commits after each customer and
        reports its progress, so a job that stops half-way resumes where it
        stopped without sending anything twice.

        :param bool auto_commit: commit after each customer; by default, only when
                                 run by the scheduler (never in tests)
        :return: the number of customers reminded
        :rtype: int
        """
        if auto_commit is None:
            auto_commit = bool(self.env.context.get("cron_id"))
        reminders = self._collection_prepare_reminders()
        Move = self.env["account.move"]
        Level = self.env["collection.reminder.level"]
        Partner = self.env["res.partner"]
        IrCron = self.env["ir.cron"]
        sent_count = 0
        for done, (company_id, partner_id, move_ids, level_ids) in enumerate(
            reminders, start=1
        ):
            # Fresh recordsets: prefetch only this customer's records, even after
            # a commit cleared the cache.
            levels_by_move = {
                Move.browse(move_id): Level.browse(level_id)
                for move_id, level_id in level_ids.items()
            }
            partner = Partner.browse(partner_id).with_company(company_id)
            try:
                with self.env.cr.savepoint():
                    if partner._collection_send_reminder(
                        Move.browse(move_ids), levels_by_move
                    ):
                        sent_count += 1
            except Exception:
                _logger.exception(
                    "payment reminder to partner %s (company %s) failed",
                    partner_id,
                    company_id,
                )
            IrCron._notify_progress(done=done, remaining=len(reminders) - done)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        if sent_count:
            self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
            self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger()
        _logger.info(
            "payment reminders sent to %s of %s customers", sent_count, len(reminders)
        )
        return sent_count

    def _collection_ensure_access_token(self):
        """Give the invoices without one their portal access token, in one query
        (core's ``_portal_ensure_token`` writes them one by one)."""
        missing = self.filtered(lambda move: not move.access_token)
        if not missing:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move
                   SET access_token = token.value
                  FROM (VALUES %s) AS token(id, value)
                 WHERE account_move.id = token.id
                   AND account_move.access_token IS NULL
                """,
                SQL(", ").join(
                    SQL("(%s, %s)", move.id, str(uuid.uuid4())) for move in missing
                ),
            )
        )
        missing.invalidate_recordset(["access_token"])

    def _collection_get_reminder_invoice_url(self):
        """Return the public link of the invoice, where the customer pays it."""
        self.ensure_one()
        return self.get_base_url() + self.get_portal_url()
