# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import uuid

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_state = fields.Selection(
        selection="_selection_collection_state",
        string="Automatic Collection",
        copy=False,
        readonly=True,
        tracking=True,
        index="btree_not_null",
        help="Scheduled: the invoice will be debited on its due date from the "
        "customer's saved card or mandate.\nSent: the debit was sent to the payment "
        "provider.\nStopped: the debit was cancelled before being sent (the customer "
        "now pays offline).\nFailed: the provider refused the debit.",
    )
    collection_transaction_id = fields.Many2one(
        comodel_name="payment.transaction",
        copy=False,
        readonly=True,
        index="btree_not_null",
    )
    collection_block_reason = fields.Selection(
        selection="_selection_collection_block_reason",
        string="Blocking Reason",
        copy=False,
        index="btree_not_null",
        help="While set, the invoice cannot be paid online in full, is not in the "
        "customer's overdue list and receives no reminder.",
    )
    collection_plan_id = fields.Many2one(
        comodel_name="collection.plan",
        string="Payment Plan",
        copy=False,
        readonly=True,
        index="btree_not_null",
    )
    collection_offline_payment_type = fields.Selection(
        related="preferred_payment_method_line_id.offline_payment_type",
        string="Offline Payment Type",
    )

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

    @api.model
    def _collection_get_open_domain(self):
        """The one definition of an open invoice: a posted customer invoice that
        is not fully paid yet (blocked or not)."""
        return [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]

    def _collection_is_open(self):
        """Whether this invoice is open, as `_collection_get_open_domain` says."""
        self.ensure_one()
        return bool(self.filtered_domain(self._collection_get_open_domain()))

    @api.model
    def _selection_collection_state(self):
        return [
            ("scheduled", self.env._("Scheduled")),
            ("sent", self.env._("Sent")),
            ("stopped", self.env._("Stopped")),
            ("failed", self.env._("Failed")),
        ]

    @api.model
    def _selection_collection_block_reason(self):
        return [
            ("plan_proposed", self.env._("Payment plan proposed")),
            ("plan_active", self.env._("Payment plan active")),
            ("dispute", self.env._("Disputed")),
        ]

    def write(self, vals):
        """Override of `account`: the payment plan reasons are set and cleared by
        the plan workflow only."""
        if "collection_block_reason" in vals and not self.env.context.get(
            "collection_plan_workflow"
        ):
            plan_reasons = ("plan_proposed", "plan_active")
            if vals["collection_block_reason"] in plan_reasons or any(
                reason in plan_reasons
                for reason in self.mapped("collection_block_reason")
            ):
                raise UserError(
                    self.env._(
                        "Payment plan blocking reasons follow the payment plan: "
                        "approve, refuse or close the plan instead."
                    )
                )
            res = super().write(vals)
            reason = dict(self._selection_collection_block_reason()).get(
                vals["collection_block_reason"]
            )
            body = (
                self.env._("On hold: %(reason)s.", reason=reason)
                if reason
                else self.env._("No longer on hold.")
            )
            self._message_log_batch(bodies=dict.fromkeys(self.ids, body))
            return res
        return super().write(vals)

    def _collection_write_plan_state(self, vals, body):
        """Write what the payment plan workflow sets on its invoices, in one
        query whatever their number: the journal items are untouched, so core's
        line synchronisation and "manually modified" flag are skipped; one
        batched chatter message per invoice keeps the trace.

        :param dict vals: ``collection_block_reason`` and/or ``collection_plan_id``
        :param str body: the chatter message
        """
        if not self:
            return
        self.with_context(
            collection_plan_workflow=True,
            skip_invoice_sync=True,
            skip_is_manually_modified=True,
        ).write(vals)
        self._message_log_batch(bodies=dict.fromkeys(self.ids, body))

    def _has_to_be_paid(self):
        """Override of `account_payment`: a blocked invoice is not paid online in
        full (an active plan is paid installment by installment)."""
        return super()._has_to_be_paid() and not self.collection_block_reason

    def _invoice_paid_hook(self):
        """Override of `account` to close the payment plans fully paid."""
        res = super()._invoice_paid_hook()
        self.collection_plan_id.sudo()._collection_check_done()
        return res

    def action_view_collection_plan(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "collection.plan",
            "res_id": self.collection_plan_id.id,
            "view_mode": "form",
        }

    def _post(self, soft=True):
        """Override of `account` to schedule the automatic debit of invoices of
        automatic customers and to queue the sending of invoices of offline
        customers when their company asks for it."""
        posted = super()._post(soft=soft)
        posted.filtered(lambda m: m.move_type == "out_invoice")._collection_after_post()
        return posted

    def _collection_after_post(self):
        to_schedule = self.browse()
        to_send = self.browse()
        for company, moves in self.grouped("company_id").items():
            partners = moves.commercial_partner_id.with_company(company)
            modes = {partner.id: partner.collection_mode for partner in partners}
            for move in moves:
                mode = modes.get(move.commercial_partner_id.id)
                if mode == "automatic":
                    to_schedule |= move
                elif (
                    mode == "offline"
                    and company.collection_auto_send_offline
                    and not move.is_move_sent
                ):
                    to_send |= move
        to_schedule.filtered(
            lambda m: not m.collection_state
        ).collection_state = "scheduled"
        to_send._collection_queue_sending()

    def _collection_queue_sending(self):
        """Hand the invoices to Odoo's standard asynchronous sending (the "Send
        invoices automatically" job), by e-mail with their PDF."""
        if not self:
            return
        without_email = self.filtered(lambda m: not m.partner_id.email)
        without_email._message_log_batch(
            bodies={
                move.id: self.env._(
                    "Not sent automatically: %(partner)s has no e-mail address.",
                    partner=move.partner_id.display_name,
                )
                for move in without_email
            }
        )
        to_send = self - without_email
        if not to_send:
            return
        to_send.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
            "collection_auto_send": True,
        }
        to_send._message_log_batch(
            bodies={
                move.id: self.env._(
                    "Queued for automatic sending by e-mail to %(email)s: the "
                    "customer pays offline (%(method)s).",
                    email=move.partner_id.email,
                    method=move.preferred_payment_method_line_id.name
                    or move.commercial_partner_id.with_company(
                        move.company_id
                    ).property_inbound_payment_method_line_id.name,
                )
                for move in to_send
            }
        )
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    def _collection_get_offline_method_line(self):
        """Return the offline payment method line this invoice is to be paid with,
        or an empty recordset when its customer is not an offline customer."""
        self.ensure_one()
        if self.move_type != "out_invoice":
            return self.env["account.payment.method.line"]
        partner = self.commercial_partner_id.with_company(self.company_id)
        if partner.collection_mode != "offline":
            return self.env["account.payment.method.line"]
        if self.preferred_payment_method_line_id.offline_payment_type:
            return self.preferred_payment_method_line_id
        return partner.property_inbound_payment_method_line_id

    def _collection_get_payment_instructions(self):
        """Return what the customer needs to pay this invoice with their offline
        method, for the PDF and the e-mail.

        :return: ``{'title': str, 'lines': [(label, value)], 'note': str}``, or
                 an empty dict when the customer does not pay offline.
        :rtype: dict
        """
        self.ensure_one()
        method_line = self._collection_get_offline_method_line()
        if not method_line:
            return {}
        company = self.company_id
        env = self.with_context(lang=self.partner_id.lang or self.env.lang).env
        reference = self.payment_reference or self.name
        company_address = "\n".join(
            line
            for line in company.partner_id._display_address(
                without_company=False
            ).splitlines()
            if line.strip()
        )
        payment_type = method_line.offline_payment_type
        if payment_type == "cheque":
            title = env._("Pay by cheque")
            lines = [
                (env._("Payable to"), company.collection_cheque_payee or company.name),
                (
                    env._("Send it to"),
                    company.collection_cheque_address or company_address,
                ),
                (env._("Write on the back"), reference),
            ]
        elif payment_type == "transfer":
            bank_account = (
                method_line.journal_id.bank_account_id or self.partner_bank_id
            )
            title = env._("Pay by bank transfer")
            lines = [
                (env._("Account holder"), bank_account.partner_id.name or company.name),
                (env._("IBAN"), bank_account.display_name or ""),
                (env._("BIC"), bank_account.bank_bic or ""),
                (env._("Reference"), reference),
            ]
        elif payment_type == "cash":
            title = env._("Pay in cash")
            lines = [
                (
                    env._("Where"),
                    company.collection_cash_instructions or company_address,
                ),
                (
                    env._("Bring"),
                    env._("this invoice (%(reference)s)", reference=reference),
                ),
            ]
        elif payment_type == "money_order":
            title = env._("Pay by money order")
            lines = [
                (
                    env._("Payable to"),
                    company.collection_money_order_payee or company.name,
                ),
                (
                    env._("Send it to"),
                    company.collection_cheque_address or company_address,
                ),
                (env._("Reference"), reference),
            ]
        else:
            title = env._("How to pay")
            lines = [(env._("Reference"), reference)]
        return {
            "title": title,
            "lines": [(label, value) for label, value in lines if value],
            "note": method_line.with_env(env).collection_instructions or "",
        }

    def _get_mail_template(self):
        """Override of `account` to send offline customers' invoices with their
        payment instructions."""
        if self and all(
            move.move_type == "out_invoice"
            and move._collection_get_offline_method_line()
            for move in self
        ):
            return self.env.ref(
                "account_payment_collection.mail_template_offline_invoice"
            )
        return super()._get_mail_template()

    @api.model
    def _cron_collection_send_due(self, batch_size=100):
        """Debit the automatic customers' invoices that are due today or earlier
        from their collection token, one transaction per invoice."""
        moves = self.search(
            [
                ("collection_state", "=", "scheduled"),
                ("state", "=", "posted"),
                ("invoice_date_due", "<=", fields.Date.context_today(self)),
            ],
            order="invoice_date_due, id",
            limit=batch_size + 1,
        )
        remaining = len(moves) > batch_size
        moves = moves[:batch_size]
        if not self.env["res.company"]._with_locked_records(moves, allow_raising=False):
            return
        for move in moves:
            move._collection_send_payment_request()
        self.env["ir.cron"]._notify_progress(done=len(moves), remaining=int(remaining))
        if remaining:
            self.env.ref(
                "account_payment_collection.ir_cron_collection_send_due"
            )._trigger()

    def _collection_send_payment_request(self):
        """Create the automatic debit of this invoice with its customer's token and
        send it to the provider; stop it if the customer no longer pays that way."""
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(self.company_id)
        token = partner.collection_token_id.sudo()
        if not self._collection_is_open() or not self.amount_residual:
            self.collection_state = False
            return
        if (
            partner.collection_mode != "automatic"
            or not token.active
            or token.provider_id.state == "disabled"
        ):
            self.collection_state = "stopped"
            self._message_log(
                body=self.env._(
                    "Automatic debit stopped: the customer has no usable saved card "
                    "or mandate any more."
                )
            )
            return
        Transaction = self.env["payment.transaction"].sudo()
        tx_sudo = Transaction.create(
            {
                "provider_id": token.provider_id.id,
                "payment_method_id": token.payment_method_id.id,
                "reference": Transaction._compute_reference(
                    token.provider_id.code, prefix=self.name
                ),
                "amount": self.amount_residual,
                "currency_id": self.currency_id.id,
                "partner_id": token.partner_id.id,
                "token_id": token.id,
                "operation": "offline",
                "invoice_ids": [Command.set(self.ids)],
            }
        )
        self.write(
            {"collection_state": "sent", "collection_transaction_id": tx_sudo.id}
        )
        tx_sudo._send_payment_request()
        if tx_sudo.state == "done":
            tx_sudo._post_process()
        elif tx_sudo.state in ("error", "cancel"):
            self.collection_state = "failed"
            self._message_log(
                body=self.env._(
                    "Automatic debit %(reference)s failed: %(reason)s Register the "
                    "payment when you receive it, or ask the customer for another card "
                    "or mandate.",
                    reference=tx_sudo.reference,
                    reason=tx_sudo.state_message or "",
                )
            )
        _logger.info(
            "automatic debit %s sent for invoice %s", tx_sudo.reference, self.id
        )

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
            *self._collection_get_open_domain(),
            ("company_id", "=", company.id),
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
