# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

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
        if (
            self.payment_state not in ("not_paid", "partial")
            or not self.amount_residual
        ):
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
