# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from dateutil.relativedelta import relativedelta
from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import float_compare, float_is_zero, format_date, mute_logger

from ..utils import plan_dates, split_amount

_logger = logging.getLogger(__name__)

OPEN_PLAN_STATES = ("proposed", "active")
# However long a company lets its plans last, they end within ten years.
MAX_PLAN_DAYS = 3650


class CollectionPlan(models.Model):
    _name = "collection.plan"
    _description = "Payment Plan"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, copy=False, readonly=True, default="/")
    state = fields.Selection(
        selection="_selection_state",
        group_expand="_group_expand_state",
        required=True,
        default="proposed",
        tracking=True,
        index=True,
        copy=False,
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency", required=True, readonly=True
    )
    invoice_link_ids = fields.One2many(
        comodel_name="collection.plan.invoice",
        inverse_name="plan_id",
        string="Invoice Links",
        readonly=True,
    )
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        string="Invoices",
        compute="_compute_invoice_ids",
        search="_search_invoice_ids",
    )
    invoice_count = fields.Integer(compute="_compute_invoice_ids")
    installment_ids = fields.One2many(
        comodel_name="collection.plan.installment",
        inverse_name="plan_id",
        string="Installments",
        readonly=True,
    )
    plan_kind = fields.Selection(
        selection="_selection_plan_kind", string="Kind", required=True, readonly=True
    )
    installment_count = fields.Integer(readonly=True, default=1)
    day_of_month = fields.Integer(readonly=True)
    first_date = fields.Date(required=True, readonly=True)
    last_date = fields.Date(compute="_compute_amounts", store=True)
    reason = fields.Text(readonly=True)
    refusal_reason = fields.Text(readonly=True, tracking=True)
    amount_total = fields.Monetary(
        readonly=True, help="What the invoices owed when proposed."
    )
    amount_paid = fields.Monetary(compute="_compute_amounts", store=True)
    amount_residual = fields.Monetary(compute="_compute_amounts", store=True)
    next_installment_id = fields.Many2one(
        comodel_name="collection.plan.installment", compute="_compute_next_installment"
    )
    next_installment_date = fields.Date(compute="_compute_next_installment")
    next_installment_amount = fields.Monetary(compute="_compute_next_installment")

    @api.depends("invoice_link_ids.move_id")
    def _compute_invoice_ids(self):
        for plan in self:
            plan.invoice_ids = plan.invoice_link_ids.move_id
            plan.invoice_count = len(plan.invoice_ids)

    def _search_invoice_ids(self, operator, value):
        return [("invoice_link_ids.move_id", operator, value)]

    @api.depends(
        "amount_total",
        "installment_ids.date",
        "invoice_link_ids.move_id.amount_residual",
    )
    def _compute_amounts(self):
        for plan in self:
            residual = sum(plan.invoice_link_ids.move_id.mapped("amount_residual"))
            plan.amount_residual = min(residual, plan.amount_total)
            plan.amount_paid = plan.amount_total - plan.amount_residual
            plan.last_date = max(plan.installment_ids.mapped("date"), default=False)

    @api.depends("installment_ids.amount_residual", "installment_ids.date", "state")
    def _compute_next_installment(self):
        for plan in self:
            installment = plan.installment_ids.filtered(
                lambda inst: not inst.currency_id.is_zero(inst.amount_residual)
            )[:1]
            plan.next_installment_id = installment
            plan.next_installment_date = installment.date
            plan.next_installment_amount = installment.amount_residual

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for plan in self:
            plan.access_url = f"/my/payment_plans/{plan.id}"
        return res

    @api.model
    def _selection_state(self):
        return [
            ("proposed", self.env._("Proposed")),
            ("active", self.env._("Active")),
            ("done", self.env._("Done")),
            ("refused", self.env._("Refused")),
            ("broken", self.env._("Broken")),
        ]

    def _group_expand_state(self, states, domain):
        return [key for key, _label in self._selection_state()]

    @api.model
    def _selection_plan_kind(self):
        return [
            ("deferred", self.env._("One deferred payment")),
            ("weekly", self.env._("Weekly installments")),
            ("monthly", self.env._("Monthly installments")),
        ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("collection.plan") or "/"
                )
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # Proposal (portal)
    # ------------------------------------------------------------------

    @api.model
    def _get_eligible_invoices_domain(self, partner):
        """Invoices a customer may put in a payment plan."""
        return [
            *self.env["account.move"]._collection_get_open_domain(),
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("collection_block_reason", "=", False),
        ]

    @api.model
    def _check_proposal_invoices(self, partner, invoices):
        """Raise unless ``invoices`` (sudo) may go together in a plan proposed by
        ``partner``. Messages never reveal another customer's data."""
        if not invoices:
            raise ValidationError(self.env._("Choose at least one invoice."))
        commercial = partner.commercial_partner_id
        for invoice in invoices:
            if (
                invoice.move_type != "out_invoice"
                or invoice.commercial_partner_id != commercial
                or invoice.state == "cancel"
            ):
                raise ValidationError(self.env._("Unknown invoice."))
            if invoice.state != "posted":
                raise ValidationError(
                    self.env._(
                        "Invoice %(invoice)s is not validated yet.",
                        invoice=invoice.name,
                    )
                )
            if invoice.payment_state not in ("not_paid", "partial"):
                raise ValidationError(
                    self.env._(
                        "Invoice %(invoice)s is already paid.", invoice=invoice.name
                    )
                )
            if invoice.collection_block_reason:
                raise ValidationError(
                    self.env._(
                        "Invoice %(invoice)s is already in a payment plan or on hold.",
                        invoice=invoice.name,
                    )
                )
        if len(invoices.currency_id) > 1:
            raise ValidationError(
                self.env._("Invoices in different currencies cannot share a plan.")
            )
        if len(invoices.company_id) > 1:
            raise ValidationError(
                self.env._("Invoices of different companies cannot share a plan.")
            )
        company = invoices.company_id
        if not company.collection_allow_plan_proposal:
            raise ValidationError(
                self.env._("Payment plans cannot be proposed online.")
            )

    @api.model
    def _prepare_schedule(self, invoices, values, today=None, check_reason=True):
        """Validate the customer's choices against the company's limits and
        return the schedule ``[(date, amount)]``; raise a ValidationError naming
        what to change otherwise.

        :param recordset invoices: the (checked) invoices, sudo
        :param dict values: ``plan_kind``, ``installment_count``, ``day_of_month``,
            ``first_date`` (date), ``reason``
        """
        company = invoices.company_id
        currency = invoices.currency_id
        today = today or fields.Date.context_today(self)
        kind = values.get("plan_kind")
        allowed_kinds = company._collection_plan_allowed_kinds()
        if kind not in allowed_kinds:
            raise ValidationError(self.env._("Choose how you would like to pay."))
        count = 1 if kind == "deferred" else values.get("installment_count")
        if not isinstance(count, int) or isinstance(count, bool):
            raise ValidationError(
                self.env._("The number of installments must be a whole number.")
            )
        max_count = company.collection_plan_max_installments
        if count < 1 or (kind != "deferred" and (count < 2 or count > max_count)):
            raise ValidationError(
                self.env._(
                    "The number of installments must be between 2 and %(max)s.",
                    max=max_count,
                )
            )
        day = values.get("day_of_month") if kind == "monthly" else None
        if kind == "monthly" and (
            not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 31
        ):
            raise ValidationError(
                self.env._("The day of the month must be between 1 and 31.")
            )
        first_date = values.get("first_date")
        if not first_date:
            raise ValidationError(self.env._("Choose the date of the first payment."))
        if first_date < today:
            raise ValidationError(
                self.env._("The first payment cannot be in the past.")
            )
        max_days = company.collection_plan_max_days or MAX_PLAN_DAYS
        last_allowed = today + relativedelta(days=min(max_days, MAX_PLAN_DAYS))
        # Checked before the dates are computed: a far date would overflow.
        if first_date > last_allowed or (
            plan_dates(kind, count, first_date, day)[-1] > last_allowed
        ):
            raise ValidationError(
                self.env._(
                    "The plan must end within %(days)s days, by %(date)s.",
                    days=(last_allowed - today).days,
                    date=format_date(self.env, last_allowed),
                )
            )
        dates = plan_dates(kind, count, first_date, day)
        reason = (values.get("reason") or "").strip()
        if "\x00" in reason:
            raise ValidationError(
                self.env._("The reason contains a character that is not allowed.")
            )
        if check_reason and company.collection_plan_reason_required and not reason:
            raise ValidationError(
                self.env._("Please tell us why you need a payment plan.")
            )
        if len(reason) > 2000:
            raise ValidationError(
                self.env._("The reason is too long (2000 characters at most).")
            )
        total = sum(invoices.mapped("amount_residual"))
        amounts = split_amount(total, count, currency.decimal_places)
        # The minimum is set in the company's currency.
        minimum = company.currency_id._convert(
            company.collection_plan_min_amount, currency, company, today
        )
        if (
            count > 1
            and float_compare(
                min(amounts), minimum, precision_rounding=currency.rounding
            )
            < 0
        ):
            raise ValidationError(
                self.env._(
                    "Each installment must be at least %(amount)s: choose fewer "
                    "installments.",
                    amount=currency.format(minimum),
                )
            )
        return list(zip(dates, amounts, strict=True))

    @api.model
    def _create_proposal(self, partner, invoices, values):
        """Create the plan proposed by ``partner`` (a portal customer) for
        ``invoices``, block them and tell everyone. Runs as superuser: callers
        must have checked that the invoices are the partner's.

        :return: the new plan, sudo
        """
        invoices = invoices.sudo()
        self._check_proposal_invoices(partner, invoices)
        schedule = self._prepare_schedule(invoices, values)
        Plan = self.sudo().with_company(invoices.company_id)
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                # Row locks: a second submission for the same invoices waits here,
                # then finds them blocked.
                self.env.cr.execute(
                    "SELECT id FROM account_move WHERE id IN %s FOR NO KEY UPDATE",
                    [tuple(invoices.ids)],
                )
                invoices.invalidate_recordset(["collection_block_reason"])
                self._check_proposal_invoices(partner, invoices)
                plan = Plan.create(
                    {
                        "partner_id": partner.commercial_partner_id.id,
                        "company_id": invoices.company_id.id,
                        "currency_id": invoices.currency_id.id,
                        "plan_kind": values["plan_kind"],
                        "installment_count": len(schedule),
                        "day_of_month": values.get("day_of_month")
                        if values["plan_kind"] == "monthly"
                        else 0,
                        "first_date": values["first_date"],
                        "reason": (values.get("reason") or "").strip(),
                        "amount_total": sum(amount for _date, amount in schedule),
                        "invoice_link_ids": [
                            Command.create(
                                {
                                    "move_id": invoice.id,
                                    "amount": invoice.amount_residual,
                                }
                            )
                            for invoice in invoices
                        ],
                        "installment_ids": [
                            Command.create(
                                {"sequence": index, "date": date, "amount": amount}
                            )
                            for index, (date, amount) in enumerate(schedule, start=1)
                        ],
                    }
                )
                plan.flush_recordset()
                plan.invoice_link_ids.flush_recordset()
        except IntegrityError as error:
            raise ValidationError(
                self.env._("These invoices are already in a payment plan.")
            ) from error
        invoices._collection_write_plan_state(
            {"collection_block_reason": "plan_proposed", "collection_plan_id": plan.id},
            self.env._("On hold: payment plan %(plan)s proposed.", plan=plan.name),
        )
        plan._message_log(
            body=self.env._(
                "Payment plan proposed by %(partner)s.", partner=partner.display_name
            )
        )
        plan._collection_send_mail(
            "account_payment_collection.mail_template_plan_proposed"
        )
        plan._collection_schedule_review_activity()
        return plan

    def _get_invoices_to_pay(self):
        """The plan's invoices still open, oldest first: payments of installments
        are reconciled with them in that order."""
        self.ensure_one()
        return self.invoice_ids.filtered_domain(
            self.env["account.move"]._collection_get_open_domain()
        ).sorted(lambda inv: (inv.invoice_date_due or inv.date, inv.id))

    def _get_amount_to_pay(self):
        """What the customer pays now: the next installment's residual, never
        more than the plan's invoices still owe; 0 unless the plan is active."""
        self.ensure_one()
        installment = self.next_installment_id
        if self.state != "active" or not installment:
            return 0.0
        owed = sum(self._get_invoices_to_pay().mapped("amount_residual"))
        return self.currency_id.round(min(installment.amount_residual, owed))

    def _collection_schedule_review_activity(self):
        for plan in self:
            responsible = (
                plan.invoice_ids.invoice_user_id[:1]
                or plan.company_id._collection_plan_reviewer()
            )
            plan.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._(
                    "Review the payment plan proposed by %(partner)s",
                    partner=plan.partner_id.name,
                ),
                user_id=responsible.id,
            )

    def _collection_send_mail(self, template_xmlid):
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        for plan in self:
            # A customer proposing a plan is the author of the message: they
            # still get the acknowledgement.
            author_is_customer = (
                self.env.user.partner_id.commercial_partner_id == plan.partner_id
            )
            plan.with_context(
                mail_notify_author=author_is_customer
            )._collection_post_with_author(
                plan.company_id,
                template,
                subtype_xmlid="mail.mt_comment",
                partner_ids=plan.partner_id.ids,
            )

    # ------------------------------------------------------------------
    # Review (back office)
    # ------------------------------------------------------------------

    def action_approve(self):
        for plan in self:
            if plan.state != "proposed":
                raise UserError(self.env._("Only proposed plans can be approved."))
        self.write({"state": "active"})
        for plan in self:
            plan.invoice_ids._collection_write_plan_state(
                {"collection_block_reason": "plan_active"},
                self.env._("On hold: payment plan %(plan)s approved.", plan=plan.name),
            )
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self._collection_send_mail(
            "account_payment_collection.mail_template_plan_approved"
        )
        return True

    def action_refuse(self):
        """Open the wizard asking why the plan is refused."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Refuse Payment Plan"),
            "res_model": "collection.plan.refuse",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    def _refuse(self, reason):
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Tell the customer why the plan is refused."))
        for plan in self:
            if plan.state != "proposed":
                raise UserError(self.env._("Only proposed plans can be refused."))
        self.write({"state": "refused", "refusal_reason": reason})
        self._collection_release_invoices()
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self._collection_send_mail(
            "account_payment_collection.mail_template_plan_refused"
        )

    def _collection_release_invoices(self):
        """Unblock the invoices of these plans: reminders and online payment resume."""
        for plan in self:
            plan._collection_current_invoices()._collection_write_plan_state(
                {"collection_block_reason": False, "collection_plan_id": False},
                self.env._(
                    "No longer on hold: payment plan %(plan)s ended.", plan=plan.name
                ),
            )

    def _collection_current_invoices(self):
        """The invoices of this plan that it still holds."""
        self.ensure_one()
        return self.invoice_ids.filtered(lambda inv: inv.collection_plan_id == self)

    def _collection_check_done(self):
        """Close the active plans whose invoices are all paid."""
        done = self.filtered(
            lambda plan: plan.state == "active"
            and float_is_zero(
                plan.amount_residual, precision_rounding=plan.currency_id.rounding
            )
        )
        if done:
            done.write({"state": "done"})
            for plan in done:
                plan._collection_current_invoices()._collection_write_plan_state(
                    {"collection_block_reason": False},
                    self.env._("Payment plan %(plan)s fully paid.", plan=plan.name),
                )
        return done

    @api.model
    def _cron_check_broken_plans(self):
        """Break the active plans with an installment still unpaid a number of
        days (company setting) after its date: invoices are unblocked and
        reminders resume."""
        today = fields.Date.context_today(self)
        plans = self.search([("state", "=", "active")])
        plans._collection_check_done()
        broken = self.browse()
        for plan in plans.filtered(lambda p: p.state == "active"):
            limit = today - relativedelta(
                days=plan.company_id.collection_plan_break_days
            )
            late = plan.installment_ids.filtered(
                lambda inst, limit=limit: not inst.currency_id.is_zero(
                    inst.amount_residual
                )
                and inst.date < limit
            )
            if late:
                broken |= plan
        if broken:
            broken.write({"state": "broken"})
            broken._collection_release_invoices()
            broken._collection_send_mail(
                "account_payment_collection.mail_template_plan_broken"
            )
            for plan in broken:
                responsible = (
                    plan.invoice_ids.invoice_user_id[:1]
                    or plan.company_id._collection_plan_reviewer()
                )
                plan.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Payment plan broken: an installment is unpaid"),
                    user_id=responsible.id,
                )
        return broken
