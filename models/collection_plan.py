# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta
from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tools import float_compare, float_is_zero, format_date, mute_logger

from ..utils import PLAN_WORKFLOW, plan_dates, split_amount

OPEN_PLAN_STATES = ("proposed", "active")
# What the plan workflow alone writes: a user (or an API client) changes them
# through the workflow's methods only.
WORKFLOW_FIELDS = frozenset(
    {
        "name",
        "state",
        "partner_id",
        "company_id",
        "currency_id",
        "invoice_link_ids",
        "installment_ids",
        "plan_kind",
        "installment_count",
        "day_of_month",
        "first_date",
        "reason",
        "refusal_reason",
        "cancel_reason",
        "amount_total",
        "adjusted",
    }
)
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
    first_installment_date = fields.Date(
        string="First Payment",
        compute="_compute_amounts",
        store=True,
        help="The date of the first installment of the schedule.",
    )
    last_date = fields.Date(
        string="Last Payment", compute="_compute_amounts", store=True
    )
    adjusted = fields.Boolean(
        string="Counter-Proposal",
        readonly=True,
        copy=False,
        help="The schedule was adjusted by the company after the customer proposed "
        "it; the customer was told.",
    )
    reason = fields.Text(readonly=True)
    refusal_reason = fields.Text(readonly=True, tracking=True)
    cancel_reason = fields.Text(
        string="Cancellation Reason", readonly=True, tracking=True
    )
    amount_total = fields.Monetary(
        readonly=True, help="What the invoices owed when proposed."
    )
    amount_paid = fields.Monetary(
        compute="_compute_amounts",
        store=True,
        help="Paid on the plan's invoices since the plan was proposed (credit notes "
        "excluded).",
    )
    amount_credited = fields.Monetary(
        compute="_compute_amounts",
        store=True,
        help="Credit notes on the plan's invoices since the plan was proposed: they "
        "reduce the last installments.",
    )
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

    def _search_invoice_ids(self, operator, value):
        return [("invoice_link_ids.move_id", operator, value)]

    @api.depends(
        "amount_total",
        "installment_ids.date",
        "invoice_link_ids.move_id.amount_residual",
    )
    def _compute_amounts(self):
        for plan in self:
            currency = plan.currency_id
            residual = sum(plan.invoice_link_ids.move_id.mapped("amount_residual"))
            plan.amount_residual = min(residual, plan.amount_total)
            settled = plan.amount_total - plan.amount_residual
            credited = sum(
                max(
                    0.0,
                    link.move_id._collection_get_credited_amount()
                    - link.amount_credited_before,
                )
                for link in plan.invoice_link_ids
            )
            plan.amount_credited = currency.round(min(credited, settled))
            plan.amount_paid = currency.round(settled - plan.amount_credited)
            dates = plan.installment_ids.mapped("date")
            plan.first_installment_date = min(dates, default=False)
            plan.last_date = max(dates, default=False)

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
            ("cancelled", self.env._("Cancelled")),
        ]

    def _group_expand_state(self, states, domain):
        """The kanban's columns: the way of a plan (proposed, active, done),
        then the ends only reached by some (refused, broken, cancelled) when a
        plan is there."""
        return [
            key
            for key, _label in self._selection_state()
            if key in ("proposed", "active", "done") or key in states
        ]

    @api.model
    def _selection_plan_kind(self):
        return [
            ("deferred", self.env._("One deferred payment")),
            ("weekly", self.env._("Weekly installments")),
            ("monthly", self.env._("Monthly installments")),
        ]

    @api.model_create_multi
    def create(self, vals_list):
        """Plans are created by the proposal workflow only (the portal, or
        `_create_proposal` from code), never directly by a user or API client."""
        self._collection_check_workflow()
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("collection.plan") or "/"
                )
        return super().create(vals_list)

    def write(self, vals):
        """State, schedule, invoices and amounts change through the workflow
        methods only; followers, activities and messages stay free."""
        if WORKFLOW_FIELDS & vals.keys():
            self._collection_check_workflow()
        return super().write(vals)

    def _collection_check_workflow(self):
        """Raise unless the caller is the plan workflow. The mark is a Python
        object in the context: a context sent by a client cannot carry it."""
        if self.env.context.get("collection_plan_workflow") is not PLAN_WORKFLOW:
            raise UserError(
                self.env._(
                    "Payment plans change through their buttons only (approve, "
                    "refuse, cancel), never by editing them."
                )
            )

    def _collection_workflow(self):
        """These plans, allowed to change their workflow fields."""
        return self.with_context(collection_plan_workflow=PLAN_WORKFLOW)

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
        Plan = (
            self.sudo()
            .with_company(invoices.company_id)
            .with_context(mail_create_nosubscribe=True)
            ._collection_workflow()
        )
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
                                    "amount_credited_before": (
                                        invoice._collection_get_credited_amount()
                                    ),
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
        # The customer's contacts follow the plan, never whoever sent the form
        # (a visitor holding an invoice's link may be logged in as someone else).
        plan.message_subscribe(partner_ids=(plan.partner_id | invoices.partner_id).ids)
        plan._collection_log_proposal_author(invoices)
        plan._collection_send_mail(
            "account_payment_collection.mail_template_plan_proposed"
        )
        plan._collection_schedule_review_activity()
        return plan

    def _collection_log_proposal_author(self, invoices):
        """Say in the chatter who really proposed the plan: the logged-in user,
        or a visitor not logged in who used an invoice's access link."""
        self.ensure_one()
        user = self.env.user
        if user._is_public():
            body = self.env._(
                "Payment plan proposed by a visitor not logged in, through the "
                "access link of invoice %(invoice)s.",
                invoice=", ".join(invoices.mapped("name")),
            )
            author = self.partner_id
        elif user.partner_id.commercial_partner_id != self.partner_id:
            body = self.env._(
                "Payment plan proposed by %(author)s, through the access link of "
                "invoice %(invoice)s.",
                author=user.partner_id.display_name,
                invoice=", ".join(invoices.mapped("name")),
            )
            author = user.partner_id
        else:
            body = self.env._(
                "Payment plan proposed by %(author)s.",
                author=user.partner_id.display_name,
            )
            author = user.partner_id
        self._message_log(body=body, author_id=author.id)

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

    def _collection_get_reviewer(self):
        """The person who reviews this plan: the customer's salesperson when it
        is a real internal user of the plan's company, else the reviewer chosen
        in the settings (by default an accounting manager); never OdooBot.

        :rtype: res.users
        """
        self.ensure_one()
        company = self.company_id
        salespeople = (
            self.partner_id.user_id | self.invoice_ids.invoice_user_id
        ).filtered(lambda user: company._collection_is_real_user(user))
        return salespeople[:1] or company._collection_plan_reviewer()

    def _collection_schedule_review_activity(self):
        for plan in self.filtered(lambda plan: plan._collection_get_reviewer()):
            responsible = plan._collection_get_reviewer()
            plan.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._(
                    "Review the payment plan proposed by %(partner)s",
                    partner=plan.partner_id.name,
                ),
                user_id=responsible.id,
            )

    def _collection_send_mail(self, template_xmlid):
        """Send the customer the plan e-mail ``template_xmlid``, posted on each
        plan, in the layout of the invoice e-mails with the company's footer.
        Odoo's header is left out: its button would be a second one beside the
        template's button to the plan's page.

        The templates read the day of sending (ISO) in the context key
        ``collection_plan_mail_today``: the installments late on that day.

        :param str template_xmlid: the ``mail.template`` sent
        """
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        for plan in self:
            plan.with_context(
                email_notification_allow_header=False,
                email_notification_force_footer=True,
                collection_plan_mail_today=fields.Date.to_string(
                    fields.Date.context_today(plan)
                ),
            )._collection_post_with_author(
                plan.company_id,
                template,
                subtype_xmlid="mail.mt_comment",
                partner_ids=plan.partner_id.ids,
                email_layout_xmlid=(
                    "mail.mail_notification_layout_with_responsible_signature"
                ),
            )

    # ------------------------------------------------------------------
    # Review (back office)
    # ------------------------------------------------------------------

    def action_approve(self):
        for plan in self:
            if plan.state != "proposed":
                raise UserError(self.env._("Only proposed plans can be approved."))
        self._collection_workflow().write({"state": "active"})
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

    def action_adjust(self):
        """Open the wizard where the accountant adjusts the proposed schedule
        (dates, amounts to the cent, number of installments) before approving
        it."""
        self.ensure_one()
        if self.state != "proposed":
            raise UserError(self.env._("Only proposed plans can be adjusted."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Adjust the Proposal"),
            "res_model": "collection.plan.adjust",
            "view_mode": "form",
            "target": "new",
            "context": {"default_plan_id": self.id},
        }

    def _adjust(self, schedule):
        """Replace the schedule of this proposed plan by the company's
        counter-proposal and tell the customer.

        :param list schedule: ``[(date, amount)]``; the amounts must add up to
            the plan's total, to the cent, and the dates must not be in the past
        :raise UserError: naming what to change otherwise
        """
        self.ensure_one()
        if self.state != "proposed":
            raise UserError(self.env._("Only proposed plans can be adjusted."))
        currency = self.currency_id
        today = fields.Date.context_today(self)
        if not schedule:
            raise UserError(self.env._("The schedule needs at least one installment."))
        for due_date, amount in schedule:
            if not due_date:
                raise UserError(self.env._("Each installment needs a date."))
            if due_date < today:
                raise UserError(
                    self.env._(
                        "The installment of %(date)s is in the past.",
                        date=format_date(self.env, due_date),
                    )
                )
            if currency.compare_amounts(amount, 0.0) <= 0:
                raise UserError(
                    self.env._("Each installment must be a positive amount.")
                )
        total = sum(currency.round(amount) for _date, amount in schedule)
        if currency.compare_amounts(total, self.amount_total):
            raise UserError(
                self.env._(
                    "The installments add up to %(total)s instead of %(expected)s: "
                    "the schedule must cover the plan's amount to the cent.",
                    total=currency.format(total),
                    expected=currency.format(self.amount_total),
                )
            )
        schedule = sorted(schedule, key=lambda line: line[0])
        dates = [due_date for due_date, _amount in schedule]
        # Installments are the workflow's: written as superuser.
        self.sudo()._collection_workflow().write(
            {
                "adjusted": True,
                "installment_count": len(schedule),
                "first_date": dates[0],
                "plan_kind": self.plan_kind if len(schedule) > 1 else "deferred",
                "installment_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "sequence": index,
                            "date": due_date,
                            "amount": currency.round(amount),
                        }
                    )
                    for index, (due_date, amount) in enumerate(schedule, start=1)
                ],
            }
        )
        self._message_log(
            body=self.env._(
                "Schedule adjusted by %(user)s: %(count)s installment(s) from "
                "%(first)s to %(last)s.",
                user=self.env.user.name,
                count=len(schedule),
                first=format_date(self.env, dates[0]),
                last=format_date(self.env, dates[-1]),
            )
        )
        self._collection_send_mail(
            "account_payment_collection.mail_template_plan_adjusted"
        )

    def action_refuse(self):
        """Refuse the plan with the reason given in the context
        (``refusal_reason``, for API clients), else open the wizard asking
        why."""
        if "refusal_reason" in self.env.context:
            self._refuse(self.env.context["refusal_reason"])
            return True
        return self._collection_reason_wizard("refuse")

    def action_cancel(self):
        """End an active (or proposed) plan from the back office, with the reason
        given in the context (``cancel_reason``, for API clients), else open the
        wizard asking why."""
        if "cancel_reason" in self.env.context:
            self._cancel(self.env.context["cancel_reason"])
            return True
        return self._collection_reason_wizard("cancel")

    def _collection_reason_wizard(self, mode):
        titles = {
            "refuse": self.env._("Refuse Payment Plan"),
            "cancel": self.env._("Cancel Payment Plan"),
        }
        return {
            "type": "ir.actions.act_window",
            "name": titles[mode],
            "res_model": "collection.plan.reason",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": self._name,
                "active_ids": self.ids,
                "default_mode": mode,
            },
        }

    def _collection_clean_reason(self, reason, message):
        reason = (reason or "").strip() if isinstance(reason, str) else ""
        if not reason:
            raise UserError(message)
        if "\x00" in reason:
            raise UserError(
                self.env._("The reason contains a character that is not allowed.")
            )
        return reason

    def _refuse(self, reason):
        reason = self._collection_clean_reason(
            reason, self.env._("Tell the customer why the plan is refused.")
        )
        for plan in self:
            if plan.state != "proposed":
                raise UserError(self.env._("Only proposed plans can be refused."))
        self._collection_workflow().write(
            {"state": "refused", "refusal_reason": reason}
        )
        self._collection_release_invoices()
        self.activity_feedback(["mail.mail_activity_data_todo"])
        self._collection_send_mail(
            "account_payment_collection.mail_template_plan_refused"
        )

    def _cancel(self, reason):
        reason = self._collection_clean_reason(
            reason, self.env._("Tell the customer why the plan is cancelled.")
        )
        for plan in self:
            if plan.state not in OPEN_PLAN_STATES:
                raise UserError(
                    self.env._(
                        "Only proposed or active plans can be cancelled (%(plan)s).",
                        plan=plan.name,
                    )
                )
        self._collection_workflow().write(
            {"state": "cancelled", "cancel_reason": reason}
        )
        self._collection_release_invoices()
        self.activity_unlink(["mail.mail_activity_data_todo"])
        self._collection_send_mail(
            "account_payment_collection.mail_template_plan_cancelled"
        )

    def action_collection_revoke_links(self):
        """Revoke the access links of these plans already sent: a new link is
        made the next time one is needed."""
        self.check_access("write")
        self.sudo().write({"access_token": False})
        self._message_log_batch(
            bodies=dict.fromkeys(
                self.ids, self.env._("Access links to this payment plan revoked.")
            )
        )
        return True

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
        """Close the active plans whose invoices are all settled, and reopen
        the done plans whose invoices are due again (a payment unreconciled)."""
        settled = self.filtered(
            lambda plan: float_is_zero(
                plan.amount_residual, precision_rounding=plan.currency_id.rounding
            )
        )
        done = settled.filtered(lambda plan: plan.state == "active")
        if done:
            done._collection_workflow().write({"state": "done"})
            for plan in done:
                plan._collection_current_invoices()._collection_write_plan_state(
                    {"collection_block_reason": False},
                    self.env._("Payment plan %(plan)s fully paid.", plan=plan.name),
                )
        reopened = (self - settled).filtered(lambda plan: plan.state == "done")
        if reopened:
            reopened._collection_workflow().write({"state": "active"})
            for plan in reopened:
                plan._collection_current_invoices().filtered(
                    lambda inv: inv._collection_is_open()
                )._collection_write_plan_state(
                    {"collection_block_reason": "plan_active"},
                    self.env._(
                        "On hold again: a payment of payment plan %(plan)s was "
                        "unreconciled.",
                        plan=plan.name,
                    ),
                )
            reopened._message_log_batch(
                bodies=dict.fromkeys(
                    reopened.ids,
                    self.env._(
                        "Reopened: a payment was unreconciled, the invoices are due "
                        "again."
                    ),
                )
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
            broken._collection_workflow().write({"state": "broken"})
            broken._collection_release_invoices()
            broken._collection_send_mail(
                "account_payment_collection.mail_template_plan_broken"
            )
            for plan in broken.filtered(lambda plan: plan._collection_get_reviewer()):
                responsible = plan._collection_get_reviewer()
                plan.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Payment plan broken: an installment is unpaid"),
                    user_id=responsible.id,
                )
        return broken

    # ------------------------------------------------------------------
    # Portal helpers
    # ------------------------------------------------------------------

    @api.model
    def _get_default_proposal(self, invoices):
        """The choices the portal's proposal form starts with for ``invoices``:
        monthly installments when the company allows them, three of them (two
        if the company allows no more), from a week from today.

        :param recordset invoices: the (checked) invoices, sudo
        :return: values in the format of `_create_proposal`
        :rtype: dict
        """
        company = invoices.company_id[:1]
        kinds = company._collection_plan_allowed_kinds()
        first_date = fields.Date.context_today(self) + relativedelta(days=7)
        max_count = company.collection_plan_max_installments
        return {
            "plan_kind": "monthly" if "monthly" in kinds else (kinds or [""])[0],
            "installment_count": max(2, min(3, max_count)),
            "day_of_month": first_date.day,
            "first_date": first_date,
            "reason": "",
        }

    def _get_pay_url(self):
        """The portal page paying the plan's next installment (with the plan's
        access token), or ``False`` unless the plan is active with an
        installment left to pay.

        :rtype: str|bool
        """
        self.ensure_one()
        if self.state != "active" or not self.next_installment_id:
            return False
        return self.get_portal_url(suffix="/pay")
