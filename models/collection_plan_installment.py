# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import format_date

from ..utils import PLAN_WORKFLOW


class CollectionPlanInstallment(models.Model):
    _name = "collection.plan.installment"
    _description = "Payment Plan Installment"
    _order = "plan_id, sequence, id"

    plan_id = fields.Many2one(
        comodel_name="collection.plan", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=1)
    date = fields.Date(required=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    amount = fields.Monetary(required=True)
    amount_paid = fields.Monetary(compute="_compute_amount_paid", store=True)
    amount_credited = fields.Monetary(compute="_compute_amount_paid", store=True)
    amount_residual = fields.Monetary(compute="_compute_amount_paid", store=True)
    # Not stored: "late" depends on today's date.
    state = fields.Selection(selection="_selection_state", compute="_compute_state")
    collection_transaction_id = fields.Many2one(
        comodel_name="payment.transaction",
        string="Automatic Debit",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The debit of this installment from the customer's saved card or "
        "mandate, when the customer pays automatically.",
    )
    collection_attempt = fields.Integer(
        readonly=True,
        copy=False,
        help="How many automatic debits of this installment were made.",
    )
    collection_failures = fields.Integer(readonly=True, copy=False)
    collection_next_attempt_date = fields.Date(
        string="Next Debit Try",
        readonly=True,
        copy=False,
        help="A debit refused for a reason that may pass is tried again on this "
        "date.",
    )

    @api.depends(
        "amount",
        "plan_id.amount_paid",
        "plan_id.amount_credited",
        "plan_id.installment_ids.amount",
    )
    def _compute_amount_paid(self):
        """Payments received on the plan's invoices go to the installments oldest
        first; credit notes reduce the last installments still due."""
        for plan in self.plan_id:
            installments = plan.installment_ids.sorted(
                lambda i: (i.date, i.sequence, i.id)
            )
            available = plan.amount_paid
            paid_by_installment = {}
            for installment in installments:
                paid = max(0.0, min(installment.amount, available))
                paid_by_installment[installment] = paid
                available -= paid
            credit = plan.amount_credited
            for installment in reversed(installments):
                paid = paid_by_installment[installment]
                credited = max(0.0, min(installment.amount - paid, credit))
                credit -= credited
                currency = installment.currency_id
                installment.amount_paid = currency.round(paid)
                installment.amount_credited = currency.round(credited)
                installment.amount_residual = currency.round(
                    installment.amount - paid - credited
                )

    @api.depends("amount_residual", "date", "plan_id.state")
    @api.depends_context("tz")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for installment in self:
            if installment.currency_id.is_zero(installment.amount_residual):
                installment.state = (
                    "credited"
                    if installment.currency_id.is_zero(installment.amount_paid)
                    else "paid"
                )
            elif installment.plan_id.state in ("refused", "broken", "cancelled"):
                installment.state = installment.plan_id.state
            elif installment.plan_id.state != "active":
                installment.state = "planned"
            elif installment.date < today:
                installment.state = "late"
            else:
                installment.state = "due"

    @api.model_create_multi
    def create(self, vals_list):
        """Installments are scheduled by the plan workflow only."""
        self.env["collection.plan"]._collection_check_workflow()
        return super().create(vals_list)

    def write(self, vals):
        self.env["collection.plan"]._collection_check_workflow()
        return super().write(vals)

    @api.model
    def _selection_state(self):
        return [
            ("planned", self.env._("Planned")),
            ("due", self.env._("To pay")),
            ("late", self.env._("Late")),
            ("paid", self.env._("Paid")),
            ("credited", self.env._("Credited")),
            ("refused", self.env._("Refused")),
            ("broken", self.env._("Not paid (plan broken)")),
            ("cancelled", self.env._("Cancelled")),
        ]

    # ------------------------------------------------------------------
    # Automatic debits
    # ------------------------------------------------------------------

    @api.model
    def _collection_get_due_debits(self, today):
        """The installments due by ``today`` of the active plans of customers
        who pay automatically, not debited yet."""
        installments = self.search(
            [
                ("plan_id.state", "=", "active"),
                ("date", "<=", today),
                ("amount_residual", ">", 0),
                "|",
                ("collection_transaction_id", "=", False),
                "&",
                ("collection_transaction_id.state", "in", ("error", "cancel")),
                ("collection_next_attempt_date", "<=", today),
            ],
            order="date, id",
        )
        return installments.filtered(
            lambda inst: inst.plan_id.partner_id.with_company(
                inst.plan_id.company_id
            )._collection_get_debit_token()
        )

    def _collection_get_debit_reference(self):
        self.ensure_one()
        return f"{self.plan_id.name}-{self.sequence}"

    def _collection_send_payment_request(self):
        """Debit this installment from the plan's customer's token, for the
        plan's open invoices (reconciled oldest first).

        :return: whether a debit was sent
        :rtype: bool
        """
        self.ensure_one()
        plan = self.plan_id
        token = plan.partner_id.with_company(
            plan.company_id
        )._collection_get_debit_token()
        invoices = plan._get_invoices_to_pay()
        owed = sum(invoices.mapped("amount_residual"))
        amount = self.currency_id.round(min(self.amount_residual, owed))
        if plan.state != "active" or not token or self.currency_id.is_zero(amount):
            return False
        attempt = self.collection_attempt + 1
        tx_sudo = self.env["payment.transaction"]._collection_create_debit(
            token,
            amount,
            invoices,
            self,
            attempt,
            collection_plan_id=plan.id,
            collection_installment_id=self.id,
        )
        self._collection_write(
            {
                "collection_transaction_id": tx_sudo.id,
                "collection_attempt": attempt,
                "collection_next_attempt_date": False,
            }
        )
        tx_sudo._collection_send_debit()
        return True

    def _collection_write(self, vals):
        self.sudo().with_context(collection_plan_workflow=PLAN_WORKFLOW).write(vals)

    def _collection_on_debit_outcome(self, tx):
        """Follow up the provider's answer to the debit ``tx`` of this
        installment: a refusal that may pass is tried again, otherwise the
        customer pays it from the plan's page."""
        self.ensure_one()
        if self.collection_transaction_id != tx:
            return
        plan = self.plan_id
        if tx.state == "done":
            self._collection_write({"collection_failures": 0})
            return
        if tx.state not in ("error", "cancel") or self.collection_next_attempt_date:
            return
        company = plan.company_id
        failures = self.collection_failures + 1
        reason = tx.state_message or self.env._("no reason given")
        if (
            tx.collection_failure_kind == "soft"
            and failures <= company.collection_retry_count
        ):
            next_date = fields.Date.context_today(self) + timedelta(
                days=company.collection_retry_days or 1
            )
            self._collection_write(
                {
                    "collection_failures": failures,
                    "collection_next_attempt_date": next_date,
                }
            )
            plan._message_log(
                body=self.env._(
                    "Automatic debit %(reference)s of installment %(number)s refused "
                    "(%(reason)s): tried again on %(date)s.",
                    reference=tx.reference,
                    number=self.sequence,
                    reason=reason,
                    date=format_date(self.env, next_date),
                )
            )
            return
        self._collection_write({"collection_failures": failures})
        body = self.env._(
            "Automatic debit %(reference)s of installment %(number)s (%(amount)s) "
            "failed: %(reason)s The customer can pay it from the plan's page.",
            reference=tx.reference,
            number=self.sequence,
            amount=tx.currency_id.format(tx.amount),
            reason=reason,
        )
        plan._message_log(body=body)
        plan.partner_id.with_company(company)._collection_schedule_activity(
            self.env._("Installment debit failed: %(plan)s", plan=plan.name),
            body,
            record=plan,
        )

    def _collection_on_debit_reversed(self, tx, kind, reason):
        self.ensure_one()
        self.plan_id._message_log(
            body=self.env._(
                "The automatic debit %(reference)s of installment %(number)s "
                "(%(amount)s) was reversed (%(reason)s): the installment is due "
                "again.",
                reference=tx.reference,
                number=self.sequence,
                amount=tx.currency_id.format(tx.amount),
                reason=reason,
            )
        )
