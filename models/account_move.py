# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import uuid

from psycopg2 import IntegrityError
from stdnum import iban as stdnum_iban

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

from ..utils import PLAN_WORKFLOW

_logger = logging.getLogger(__name__)

# The offline methods of the customers whose reminders carry payment
# instructions instead of links to pay online.
REMINDER_OFFLINE_ONLY_TYPES = ("cheque", "transfer", "cash", "money_order")


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
    collection_attempt = fields.Integer(
        string="Debit Attempts",
        copy=False,
        readonly=True,
        help="How many automatic debits of this invoice were made.",
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
    # What "Send Reminder Now" checks, for the button's visibility.
    collection_can_remind = fields.Boolean(
        string="Can Be Reminded",
        compute="_compute_collection_can_remind",
        help="A payment reminder can be sent now for this invoice: posted, open, "
        "not blocked, overdue, its customer not excluded from reminders and the "
        "reminders of its company switched on.",
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

    @api.depends(
        "move_type",
        "state",
        "payment_state",
        "collection_block_reason",
        "company_id.collection_reminders_enabled",
        "commercial_partner_id.collection_reminder_excluded",
        "line_ids.date_maturity",
        "line_ids.reconciled",
    )
    def _compute_collection_can_remind(self):
        refusals = self._collection_get_reminder_refusals()
        for move in self:
            move.collection_can_remind = move not in refusals

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
        """Override of `account`: the payment plan reasons and links are set and
        cleared by the plan workflow only, and an invoice held by an open plan
        keeps its customer."""
        is_workflow = self.env.context.get("collection_plan_workflow") is PLAN_WORKFLOW
        if not is_workflow and "collection_plan_id" in vals:
            raise UserError(
                self.env._(
                    "An invoice joins or leaves a payment plan through the plan's "
                    "workflow only."
                )
            )
        if "partner_id" in vals and not is_workflow:
            self._collection_check_not_in_open_plan(
                self.env._("change its customer"),
                self.filtered(lambda m: m.partner_id.id != vals["partner_id"]),
            )
        if "collection_block_reason" in vals and not is_workflow:
            plan_reasons = ("plan_proposed", "plan_active")
            if vals["collection_block_reason"] in plan_reasons or any(
                reason in plan_reasons
                for reason in self.mapped("collection_block_reason")
            ):
                raise UserError(
                    self.env._(
                        "Payment plan blocking reasons follow the payment plan: "
                        "approve, refuse or cancel the plan instead (Payment Plan "
                        "button on the invoice)."
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
            collection_plan_workflow=PLAN_WORKFLOW,
            skip_invoice_sync=True,
            skip_is_manually_modified=True,
        ).write(vals)
        self._message_log_batch(bodies=dict.fromkeys(self.ids, body))

    def _has_to_be_paid(self):
        """Override of `account_payment`: a blocked invoice is not paid online in
        full (an active plan is paid installment by installment)."""
        return super()._has_to_be_paid() and not self.collection_block_reason

    def _collection_check_not_in_open_plan(self, action, moves=None):
        """Raise a ``UserError`` if one of ``moves`` (default: these invoices) is
        held by a proposed or active payment plan: the plan would ask for money
        that is no longer due.

        :param str action: what was attempted, e.g. "reset it to draft"
        """
        for move in self if moves is None else moves:
            plan = move.sudo().collection_plan_id
            if plan.state in ("proposed", "active") and move.collection_block_reason:
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s is in the payment plan %(plan)s "
                        "(%(state)s): cancel the plan first (Payment Plan button on "
                        "the invoice, then Cancel Plan) to %(action)s.",
                        invoice=move.name,
                        plan=plan.name,
                        state=dict(plan._selection_state())[plan.state],
                        action=action,
                    )
                )

    def button_draft(self):
        """Override of `account`: an invoice held by an open payment plan is not
        reset to draft."""
        self._collection_check_not_in_open_plan(self.env._("reset it to draft"))
        return super().button_draft()

    def button_cancel(self):
        """Override of `account`: an invoice held by an open payment plan is not
        cancelled."""
        self._collection_check_not_in_open_plan(self.env._("cancel it"))
        return super().button_cancel()

    def _collection_get_credited_amount(self):
        """The part of this invoice settled by credit notes, in its currency."""
        self.ensure_one()
        partials = self._get_reconciled_invoices_partials()[0]
        return sum(
            amount
            for _partial, amount, counterpart_line in partials
            if counterpart_line.move_id.move_type == "out_refund"
        )

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
        method, for the PDF and the e-mail, in the customer's language.

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
        method_line = method_line.with_env(env)
        reference = self.payment_reference or self.name
        company_address = company.collection_mailing_address
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
                (
                    env._("Account holder"),
                    bank_account.acc_holder_name
                    or bank_account.partner_id.name
                    or company.name,
                ),
                *self._collection_get_bank_account_lines(env, bank_account),
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
        lines.insert(0, (env._("Payment method"), method_line.name))
        return {
            "title": title,
            "lines": [(label, value) for label, value in lines if value],
            "note": method_line.collection_instructions or "",
        }

    @api.model
    def _collection_get_bank_account_lines(self, env, bank_account):
        """The lines of transfer instructions that tell the customer where to
        send the money: "IBAN" only for an IBAN (else "Account number"), the
        BIC and the bank when the account's bank has them.

        :param env: the environment in the customer's language
        :param bank_account: a `res.partner.bank` record, possibly empty
        :return: ``[(label, value)]``
        :rtype: list
        """
        if not bank_account:
            return []
        acc_number = bank_account.acc_number or ""
        # base_iban computes acc_type; without it, recognise an IBAN ourselves.
        if bank_account.acc_type == "iban" or stdnum_iban.is_valid(acc_number):
            lines = [(env._("IBAN"), stdnum_iban.format(acc_number))]
        else:
            lines = [(env._("Account number"), acc_number)]
        if bank_account.bank_bic:
            lines.append((env._("BIC"), bank_account.bank_bic))
        if bank_account.bank_name:
            lines.append((env._("Bank"), bank_account.bank_name))
        return lines

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
    def _collection_get_debit_domain(self, today):
        """The invoices of automatic customers to debit now: scheduled, open,
        not on hold, with an installment of their payment term due by
        ``today``."""
        return [
            ("collection_state", "=", "scheduled"),
            *self._collection_get_open_domain(),
            ("collection_block_reason", "=", False),
            (
                "line_ids",
                "any",
                [
                    ("display_type", "=", "payment_term"),
                    ("reconciled", "=", False),
                    ("date_maturity", "<=", today),
                ],
            ),
        ]

    @api.model
    def _cron_collection_send_due(self, batch_size=50, auto_commit=None):
        """Debit what is due today from the automatic customers' saved cards
        and mandates: each invoice's installments due (never an invoice on
        hold), and each installment due of their active payment plans, one
        transaction each.

        Each debit is made in its own savepoint, so that one provider error
        never undoes the others; run by the scheduler, the job commits after
        each batch and triggers itself again until nothing is due, so a job
        stopped half-way resumes without charging twice (a debit made again
        carries the same idempotency key).

        :param int batch_size: debits per batch
        :param bool auto_commit: commit after each batch; by default only when
            run by the scheduler (never in tests)
        :return: the number of debits sent
        :rtype: int
        """
        if auto_commit is None:
            auto_commit = bool(self.env.context.get("cron_id"))
        today = fields.Date.context_today(self)
        moves = self.search(
            self._collection_get_debit_domain(today),
            order="invoice_date_due, id",
            limit=batch_size + 1,
        )
        installments = self.env[
            "collection.plan.installment"
        ]._collection_get_due_debits(today)
        items = list(moves) + list(installments)
        remaining = len(items) > batch_size
        items = items[:batch_size]
        sent = 0
        for item in items:
            # Skip what another worker is debiting right now.
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                    SQL.identifier(item._table),
                    item.id,
                )
            )
            if not self.env.cr.fetchone():
                continue
            try:
                with self.env.cr.savepoint():
                    if item._collection_send_payment_request():
                        sent += 1
            except Exception:
                _logger.exception(
                    "automatic debit of %s %s failed", item._name, item.id
                )
        self.env["ir.cron"]._notify_progress(done=len(items), remaining=int(remaining))
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        if remaining:
            self.env.ref(
                "account_payment_collection.ir_cron_collection_send_due"
            )._trigger()
        return sent

    def _collection_get_debit_reference(self):
        self.ensure_one()
        return self.name

    def _collection_get_due_amount(self, today=None):
        """What is due on this invoice by ``today``: the residual of its
        payment term's installments due by then (all of it for a single due
        date), in the invoice's currency."""
        self.ensure_one()
        today = today or fields.Date.context_today(self)
        lines = self.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
            and not line.reconciled
            and line.date_maturity
            and line.date_maturity <= today
        )
        due = sum(lines.mapped("amount_residual_currency"))
        return self.currency_id.round(min(due, self.amount_residual))

    def _collection_send_payment_request(self):
        """Debit what is due on this invoice from its customer's token; stop the
        debits if the customer no longer pays that way.

        :return: whether a debit was sent
        :rtype: bool
        """
        self.ensure_one()
        if self.collection_block_reason:
            return False  # on hold: an active plan's installments are debited
        partner = self.commercial_partner_id.with_company(self.company_id)
        if not self._collection_is_open() or not self.amount_residual:
            self.collection_state = False
            return False
        token = partner._collection_get_debit_token()
        if not token:
            self.collection_state = "stopped"
            self._message_log(
                body=self.env._(
                    "Automatic debit stopped: the customer has no usable saved card "
                    "or mandate any more."
                )
            )
            return False
        amount = self._collection_get_due_amount()
        if self.currency_id.is_zero(amount) or amount < 0:
            return False
        attempt = self.collection_attempt + 1
        tx_sudo = self.env["payment.transaction"]._collection_create_debit(
            token, amount, self, self, attempt
        )
        self.write(
            {
                "collection_state": "sent",
                "collection_transaction_id": tx_sudo.id,
                "collection_attempt": attempt,
            }
        )
        _logger.info(
            "automatic debit %s sent for invoice %s", tx_sudo.reference, self.id
        )
        if tx_sudo._collection_send_debit() is False:
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
        return True

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_collection_send_reminder(self):
        """Send this invoice's customer their next payment reminder now: one
        e-mail listing all their overdue invoices, at the next level of this
        invoice (even if its number of days is not reached yet), together with the
        other invoices whose next level is due.

        :raise: ``UserError`` when the invoice cannot be reminded, e.g. when the
                payment reminders of its company are switched off
        """
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
        refusal = self._collection_get_reminder_refusals().get(self)
        if refusal:
            raise UserError(refusal)

    def _collection_get_reminder_refusals(self):
        """Return why each of these invoices cannot be reminded now, the one
        definition of what "Send Reminder Now" accepts (and shows the button for):
        a posted customer invoice, open, not blocked, overdue (one installment
        is), of a customer not excluded from reminders, in a company whose
        reminders are switched on. In one query whatever the number of invoices.

        :return: ``{account.move: str}``, the translated reason of each invoice
                 that cannot be reminded (the others are not in it)
        :rtype: dict
        """
        refusals = {}
        candidates = self.browse()
        for move in self:
            if move.move_type != "out_invoice" or move.state != "posted":
                refusals[move] = self.env._(
                    "Payment reminders are only sent for posted customer invoices."
                )
            elif not move.company_id.collection_reminders_enabled:
                refusals[move] = self.env._(
                    "Payment reminders are switched off for %(company)s: switch "
                    "them on in Invoicing > Configuration > Settings > Payment "
                    "Reminders.",
                    company=move.company_id.name,
                )
            elif move.payment_state not in ("not_paid", "partial"):
                refusals[move] = self.env._(
                    "Invoice %(invoice)s is paid: there is nothing to remind.",
                    invoice=move.name,
                )
            elif move.collection_block_reason:
                reason = dict(
                    self._fields["collection_block_reason"]._description_selection(
                        self.env
                    )
                ).get(move.collection_block_reason)
                refusals[move] = self.env._(
                    "Invoice %(invoice)s is blocked (%(reason)s): it receives no "
                    "reminder.",
                    invoice=move.name,
                    reason=reason,
                )
            else:
                candidates |= move
        # What the database says (the form's unsaved records read their origin).
        overdue_dates = candidates._origin._collection_get_reminder_overdue_dates()
        for move in candidates:
            if move._origin not in overdue_dates:
                # The next installment to pay (the invoice's due date is its last).
                next_date = min(
                    move.line_ids.filtered(
                        lambda line: line.display_type == "payment_term"
                        and not line.reconciled
                        and line.date_maturity
                    ).mapped("date_maturity"),
                    default=move.invoice_date_due,
                )
                refusals[move] = self.env._(
                    "Invoice %(invoice)s is not overdue yet (due on %(date)s).",
                    invoice=move.name,
                    date=format_date(self.env, next_date),
                )
            elif move.commercial_partner_id.collection_reminder_excluded:
                refusals[move] = self.env._(
                    "%(partner)s is excluded from payment reminders.",
                    partner=move.commercial_partner_id.display_name,
                )
        return refusals

    @api.model
    def _collection_get_reminder_domain(self, company):
        """Return the domain of the invoices of ``company`` that may be reminded:
        posted customer invoices, overdue, unpaid or partly paid, not blocked
        (payment plan, dispute...), of customers not excluded from reminders.

        An invoice is overdue when one of its installments is: in 18.0
        ``invoice_date_due`` is the date of the last installment, so the domain
        reads the unpaid installments' ``date_maturity`` (indexed) instead.
        """
        return [
            *self._collection_get_open_domain(),
            ("company_id", "=", company.id),
            (
                "line_ids",
                "any",
                [
                    ("display_type", "=", "payment_term"),
                    ("reconciled", "=", False),
                    ("date_maturity", "<", fields.Date.context_today(self)),
                ],
            ),
            ("collection_block_reason", "=", False),
            ("commercial_partner_id.collection_reminder_excluded", "=", False),
        ]

    def _collection_get_reminder_overdue_dates(self):
        """Return the due date of the oldest unpaid installment of each invoice
        of ``self`` that has one overdue, in one query whatever their number.

        :return: ``{account.move: date}``, without the invoices not overdue
        :rtype: dict
        """
        if not self:
            return {}
        return dict(
            self.env["account.move.line"]._read_group(
                [
                    ("move_id", "in", self.ids),
                    ("display_type", "=", "payment_term"),
                    ("reconciled", "=", False),
                    ("date_maturity", "<", fields.Date.context_today(self)),
                ],
                groupby=["move_id"],
                aggregates=["date_maturity:min"],
            )
        )

    def _collection_get_due_reminder_levels(self, levels):
        """Return the invoices of ``self`` whose next reminder level is due, with
        that level.

        The next level of an invoice is the first level above the last one sent
        (the first level for an invoice never reminded, whatever its age): it is
        due once the oldest unpaid installment is overdue by the level's number
        of days and, after a first reminder, once the difference between the
        level's days and the last level's days has passed since the last
        reminder. A 60-day-old invoice thus gets the levels of 7, 21 and 45 days
        today, 14 days later and 24 days after that.

        :param levels: the ``collection.reminder.level`` of the invoices' company
        :return: ``{account.move: collection.reminder.level}``
        :rtype: dict
        """
        today = fields.Date.context_today(self)
        levels = levels.sorted(lambda level: (level.days_after_due, level.id))
        overdue_dates = self._collection_get_reminder_overdue_dates()
        levels_by_move = {}
        for move in self:
            overdue_date = overdue_dates.get(move)
            if not overdue_date:
                continue
            last_level = move.collection_reminder_level_id
            last_days = last_level.days_after_due
            next_level = next(
                (level for level in levels if level.days_after_due > last_days),
                None,
            )
            if not next_level or (
                (today - overdue_date).days < next_level.days_after_due
            ):
                continue
            if last_level and (
                (today - move.collection_reminder_date).days
                < next_level.days_after_due - last_days
            ):
                continue
            levels_by_move[move] = next_level
        return levels_by_move

    @api.model
    def _collection_prepare_reminders(self, companies=None):
        """Return the reminders to send, one per customer and company, with ids
        only (they survive the commits of the job). Only the companies with
        ``collection_reminders_enabled`` are considered, unless ``companies`` are
        given (the preview shows what the job would send before it is switched
        on). Reads only: nothing is sent or written.

        :param companies: the ``res.company`` to prepare, whether their reminders
                          are switched on or not; by default the companies whose
                          reminders are switched on
        :return: list of ``(company_id, partner_id, move_ids, {move_id: level_id})``
                 where ``move_ids`` are all the customer's overdue invoices (listed
                 in the e-mail) and the dict holds those whose next level is due
        :rtype: list
        """
        reminders = []
        if companies is None:
            # Only the companies whose admin switched the reminders on.
            company_domain = [("company_id.collection_reminders_enabled", "=", True)]
        else:
            company_domain = [("company_id", "in", companies.ids)]
        levels_by_company = (
            self.env["collection.reminder.level"]
            .search(company_domain)
            .grouped("company_id")
        )
        for company, levels in levels_by_company.items():
            moves = self.search_fetch(
                self._collection_get_reminder_domain(company),
                [
                    "commercial_partner_id",
                    "invoice_date_due",
                    "collection_reminder_level_id",
                    "collection_reminder_date",
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
        invoices, and record the level sent on each invoice, in the companies
        whose payment reminders are switched on.

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

    def _collection_get_reminder_payable_moves(self):
        """Return those of these invoices that a reminder offers to pay online:
        the invoice page offers it (``_has_to_be_paid``: online payment of
        invoices is switched on, the invoice is open, not blocked, without a
        pending transaction), the company has a published payment provider, and
        the customer does not pay with an offline method that is not online
        (cheque, transfer, cash, money order: they get their instructions
        instead). In a constant number of queries.

        :return: the ``account.move`` offered to pay online
        """
        Provider = self.env["payment.provider"].sudo()
        companies_online = self.company_id.filtered(
            lambda company: Provider.search_count(
                [
                    *Provider._check_company_domain(company),
                    ("state", "in", ("enabled", "test")),
                    ("is_published", "=", True),
                ],
                limit=1,
            )
        )
        return self.filtered(
            lambda move: move.company_id in companies_online
            and move._has_to_be_paid()
            and move._collection_get_offline_method_line().offline_payment_type
            not in REMINDER_OFFLINE_ONLY_TYPES
        )

    # ------------------------------------------------------------------
    # Portal helpers
    # ------------------------------------------------------------------

    def _collection_filter_plan_eligible(self, partner):
        """Return those of these invoices that ``partner`` may put in a payment
        plan now: open, the partner's, not blocked, and their company lets
        customers propose plans (of at least one kind).

        :param recordset partner: the customer (or one of its contacts)
        :return: the eligible invoices, in the environment of ``self``
        :rtype: recordset
        """
        domain = self.env["collection.plan"]._get_eligible_invoices_domain(partner)
        eligible = (
            self.sudo()
            .filtered_domain(domain)
            .filtered(
                lambda invoice: invoice.company_id.collection_allow_plan_proposal
                and invoice.company_id._collection_plan_allowed_kinds()
            )
        )
        return eligible.with_env(self.env)
