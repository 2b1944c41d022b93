# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import uuid
from datetime import timedelta

import psycopg2
from psycopg2 import IntegrityError
from stdnum import iban as stdnum_iban

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

from ..const import COLLECTION_IN_FLIGHT_STATES, COLLECTION_IN_PROGRESS_STATES
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
        help="Scheduled: the invoice will be debited on its due date (or on the "
        "date of the next try) from the customer's saved card or mandate.\nDebit "
        "sent: the debit was sent, the provider's answer is awaited.\nDebit "
        "pending: the provider accepted the debit and confirms it within days (SEPA "
        "direct debit).\nDebited: the provider confirmed the debit.\nStopped: the "
        "debit was cancelled before being sent.\nFailed: the debit was refused or "
        "reversed; the invoice follows the reminders.",
    )
    collection_failures = fields.Integer(
        string="Consecutive Refused Debits",
        copy=False,
        readonly=True,
    )
    collection_next_attempt_date = fields.Date(
        string="Next Debit Try",
        copy=False,
        readonly=True,
        help="A debit refused for a reason that may pass is tried again on this "
        "date.",
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
        "collection_state",
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
            ("sent", self.env._("Debit sent")),
            ("pending", self.env._("Debit pending")),
            ("debited", self.env._("Debited")),
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
                if (
                    mode == "automatic"
                    and partners.browse(
                        move.commercial_partner_id.id
                    )._collection_get_debit_token()
                ):
                    to_schedule |= move
                elif (
                    mode in ("offline", "automatic")
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
            "|",
            ("collection_next_attempt_date", "=", False),
            ("collection_next_attempt_date", "<=", today),
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
        self.env["payment.transaction"]._collection_resend_unanswered()
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

    def _collection_send_payment_request(self, charge_now=False):
        """Debit what is due on this invoice from its customer's token; stop the
        debits if the customer no longer pays that way.

        :param bool charge_now: debit at once (the accountant's "Charge Now"):
            what is due, or the next installment when nothing is due yet
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
        if self._collection_get_debit_in_flight():
            return False  # never two debits of the same invoice at once
        token = partner._collection_get_debit_token()
        if not token:
            self.write(
                {"collection_state": "stopped", "collection_next_attempt_date": False}
            )
            self._message_log(
                body=self.env._(
                    "Automatic debit stopped: the customer has no usable saved card "
                    "or mandate any more."
                )
            )
            return False
        amount = self._collection_get_due_amount()
        if charge_now and self.currency_id.is_zero(amount):
            amount = self._collection_get_next_installment_amount()
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
                "collection_next_attempt_date": False,
            }
        )
        _logger.info(
            "automatic debit %s sent for invoice %s", tx_sudo.reference, self.id
        )
        tx_sudo._collection_send_debit()
        return True

    def _collection_get_next_installment_amount(self):
        """The residual of the next installment of the payment term."""
        self.ensure_one()
        lines = self.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
            and not line.reconciled
            and line.date_maturity
        ).sorted("date_maturity")
        if not lines:
            return 0.0
        first = lines.filtered(
            lambda line: line.date_maturity == lines[0].date_maturity
        )
        due = sum(first.mapped("amount_residual_currency"))
        return self.currency_id.round(min(due, self.amount_residual))

    def _collection_get_debit_in_flight(self):
        """The debit of this invoice sent and not answered for good yet, sudo."""
        self.ensure_one()
        return (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("invoice_ids", "in", self.ids),
                    ("collection_idempotency_key", "!=", False),
                    ("state", "in", ("draft", "pending", "authorized")),
                ],
                limit=1,
            )
        )

    def _collection_on_debit_outcome(self, tx):
        """Follow up the answer of the provider to the debit ``tx`` of this
        invoice: pending, debited, or refused (tried again, or the customer is
        asked to pay another way and the reminders resume).

        :param tx: the ``payment.transaction``, sudo, in a final or pending state
        """
        self.ensure_one()
        if self.collection_transaction_id != tx:
            return  # an older debit: the invoice has moved on
        if tx.state == "pending":
            if self.collection_state == "sent":
                self.collection_state = "pending"
                self._message_log(
                    body=self.env._(
                        "Automatic debit %(reference)s of %(amount)s accepted by "
                        "%(provider)s: it is confirmed within a few days.",
                        reference=tx.reference,
                        amount=tx.currency_id.format(tx.amount),
                        provider=tx.provider_id.name,
                    )
                )
        elif tx.state == "done":
            if self.collection_state in COLLECTION_IN_FLIGHT_STATES:
                self.write(
                    {
                        "collection_state": "scheduled"
                        if self._collection_is_open()
                        else "debited",
                        "collection_failures": 0,
                    }
                )
        elif tx.state in ("error", "cancel") and self.collection_state in (
            COLLECTION_IN_FLIGHT_STATES
        ):
            self._collection_on_debit_refused(tx)

    def _collection_on_debit_refused(self, tx):
        self.ensure_one()
        company = self.company_id
        failures = self.collection_failures + 1
        kind = tx.collection_failure_kind or "hard"
        reason = tx.state_message or self.env._("no reason given")
        if kind == "soft" and failures <= company.collection_retry_count:
            next_date = fields.Date.context_today(self) + timedelta(
                days=company.collection_retry_days or 1
            )
            self.write(
                {
                    "collection_state": "scheduled",
                    "collection_failures": failures,
                    "collection_next_attempt_date": next_date,
                }
            )
            self._message_log(
                body=self.env._(
                    "Automatic debit %(reference)s refused (%(reason)s): tried again "
                    "on %(date)s (try %(number)s of %(tries)s).",
                    reference=tx.reference,
                    reason=reason,
                    date=format_date(self.env, next_date),
                    number=failures + 1,
                    tries=company.collection_retry_count + 1,
                )
            )
            return
        self.write(
            {
                "collection_state": "failed",
                "collection_failures": failures,
                "collection_next_attempt_date": False,
            }
        )
        if kind == "not_sent":
            body = self.env._(
                "Automatic debit %(reference)s could not be sent: %(reason)s Check "
                "the payment provider's configuration, then use Charge Now; the "
                "customer was not told.",
                reference=tx.reference,
                reason=reason,
            )
            self._message_log(body=body)
            self.commercial_partner_id.with_company(
                company
            )._collection_schedule_activity(
                self.env._("Automatic debit not sent: %(invoice)s", invoice=self.name),
                body,
                record=self,
            )
            return
        if kind == "authentication_required":
            body = self.env._(
                "Automatic debit %(reference)s needs the customer's authentication "
                "(%(reason)s): they were sent a link to pay the invoice online.",
                reference=tx.reference,
                reason=reason,
            )
        else:
            body = self.env._(
                "Automatic debit %(reference)s failed: %(reason)s The customer was "
                "sent a link to pay online or to save another card or mandate; the "
                "invoice now follows the payment reminders. Register the payment "
                "when you receive it.",
                reference=tx.reference,
                reason=reason,
            )
        self._message_log(body=body)
        self._collection_send_debit_failed_mail(tx)
        self.commercial_partner_id.with_company(company)._collection_schedule_activity(
            self.env._("Automatic debit failed: %(invoice)s", invoice=self.name),
            body,
            record=self,
        )

    def _collection_send_debit_failed_mail(self, tx):
        """E-mail the customer that the debit ``tx`` of this invoice failed,
        with a link to pay it online (on-session: 3-D Secure works there) and, unless
        only an authentication was missing, a link to save another method."""
        self.ensure_one()
        if not self.partner_id.email and not self.commercial_partner_id.email:
            _logger.info("invoice %s: no e-mail address for the failed debit", self.id)
            return
        self._collection_ensure_access_token()
        template = self.env.ref("account_payment_collection.mail_template_debit_failed")
        self.with_context(
            collection_failure_kind=tx.collection_failure_kind or "hard",
            collection_transaction_id=tx.id,
            mail_notify_force_send=False,
        )._collection_post_with_author(
            self.company_id,
            template,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=(
                self.partner_id if self.partner_id.email else self.commercial_partner_id
            ).ids,
        )

    def _collection_get_debit_mail_values(self):
        """What the debit e-mails show: the amount, the payment page, and the
        registration link of the customer."""
        self.ensure_one()
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .browse(self.env.context.get("collection_transaction_id"))
            .exists()
            or self.collection_transaction_id.sudo()
        )
        partner = self.commercial_partner_id.with_company(self.company_id)
        return {
            "amount": tx.currency_id.format(tx.amount) if tx else False,
            "residual": self.currency_id.format(self.amount_residual),
            "pay_url": self.get_base_url() + self._get_share_url(redirect=False),
            "registration_url": partner.collection_registration_url
            if not partner.collection_greylisted
            else False,
            "reason": tx.state_message or False,
        }

    def _collection_on_debit_reversed(self, tx, kind, reason):
        """The debit ``tx`` of this invoice, booked, failed late or was charged
        back: the invoice is open again; it follows the payment reminders."""
        self.ensure_one()
        self.write(
            {
                "collection_state": "failed",
                "collection_next_attempt_date": False,
            }
        )
        if kind == "chargeback":
            body = self.env._(
                "The customer's bank charged back the automatic debit %(reference)s "
                "(%(amount)s): %(reason)s The payment was reversed; %(residual)s is "
                "due again.",
                reference=tx.reference,
                amount=tx.currency_id.format(tx.amount),
                reason=reason,
                residual=self.currency_id.format(self.amount_residual),
            )
        else:
            body = self.env._(
                "The automatic debit %(reference)s (%(amount)s) failed after being "
                "confirmed: %(reason)s The payment was reversed; %(residual)s is due "
                "again.",
                reference=tx.reference,
                amount=tx.currency_id.format(tx.amount),
                reason=reason,
                residual=self.currency_id.format(self.amount_residual),
            )
        self._message_log(body=body)
        self._collection_send_debit_failed_mail(tx)
        self.commercial_partner_id.with_company(
            self.company_id
        )._collection_schedule_activity(
            self.env._("Debit reversed: %(invoice)s", invoice=self.name),
            body,
            record=self,
        )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_collection_send_payment_link(self):
        """From the customer invoice list: one payment link settling the
        selected invoices of one customer, for their amount due."""
        partners = self.commercial_partner_id
        if len(partners) != 1:
            raise UserError(
                self.env._(
                    "Select the invoices of one customer: a payment link settles the "
                    "invoices of one customer."
                )
            )
        return partners._collection_link_wizard_action(
            self.env._("Settle Invoices"), "settlement", self
        )

    def action_collection_charge_now(self):
        """Debit these due invoices of automatic customers now, from their saved
        card or mandate (what is due, or the next installment when nothing is due
        yet), one transaction each.

        :raise UserError: an invoice cannot be debited (not posted or paid, on
            hold, its customer without a usable card or mandate, a debit already
            in progress)
        """
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only accountants can debit an invoice."))
        results = []
        for move in self:
            move._collection_check_charge_now()
            move._collection_lock_for_debit()
            move._collection_send_payment_request(charge_now=True)
            results.append(move)
        tx = self.collection_transaction_id[:1].sudo() if len(self) == 1 else None
        if tx and tx.state == "done":
            message, kind = (
                self.env._(
                    "Debited: %(amount)s.", amount=tx.currency_id.format(tx.amount)
                ),
                "success",
            )
        elif tx and tx.state == "pending":
            message, kind = (
                self.env._(
                    "Debit pending: the provider confirms it within a few days."
                ),
                "info",
            )
        elif tx and tx.state in ("error", "cancel"):
            message, kind = (
                self.env._("Debit refused: %(reason)s", reason=tx.state_message or ""),
                "warning",
            )
        else:
            message, kind = (
                self.env._("Debits sent: %(count)s.", count=len(results)),
                "info",
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": kind,
                "message": message,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _collection_check_charge_now(self):
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(self.company_id)
        problem = False
        if self.move_type != "out_invoice" or self.state != "posted":
            problem = self.env._("only posted customer invoices are debited")
        elif not self._collection_is_open():
            problem = self.env._("it is paid")
        elif self.collection_block_reason:
            problem = self.env._(
                "it is on hold (%(reason)s)",
                reason=dict(self._selection_collection_block_reason())[
                    self.collection_block_reason
                ],
            )
        elif partner.collection_mode != "automatic":
            problem = self.env._(
                "%(partner)s does not pay automatically", partner=partner.display_name
            )
        elif not partner._collection_get_debit_token():
            problem = self.env._(
                "%(partner)s has no usable saved card or mandate: send them a "
                "registration link",
                partner=partner.display_name,
            )
        elif (
            self.collection_state in COLLECTION_IN_FLIGHT_STATES
            or self._collection_get_debit_in_flight()
        ):
            problem = self.env._("a debit of it is already in progress")
        if problem:
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s cannot be debited now: %(problem)s.",
                    invoice=self.name or self.display_name,
                    problem=problem,
                )
            )

    def _collection_lock_for_debit(self):
        """Lock this invoice for its debit, or refuse at once when another
        worker (the due-date job, a webhook, another accountant) holds it."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM account_move WHERE id = %s"
                        " FOR NO KEY UPDATE NOWAIT",
                        self.id,
                    )
                )
        except psycopg2.errors.LockNotAvailable:
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s is being debited right now: try again in a "
                    "moment.",
                    invoice=self.name,
                )
            ) from None

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
            elif move.collection_state in COLLECTION_IN_PROGRESS_STATES:
                refusals[move] = self.env._(
                    "Invoice %(invoice)s is being collected automatically "
                    "(%(state)s): it is reminded only if the debit fails.",
                    invoice=move.name,
                    state=dict(self._selection_collection_state())[
                        move.collection_state
                    ],
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
            # Being collected automatically: reminded only once it failed.
            ("collection_state", "not in", COLLECTION_IN_PROGRESS_STATES),
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
        instead, unless their method allows online payment). In a constant
        number of queries.

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
            and (
                move._collection_get_offline_method_line().offline_payment_type
                not in REMINDER_OFFLINE_ONLY_TYPES
                or move._collection_is_online_payment_allowed()
            )
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
