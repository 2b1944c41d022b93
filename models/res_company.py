# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import SUPERUSER_ID, api, fields, models

from ..const import DEFAULT_OFFLINE_LINES


class ResCompany(models.Model):
    _inherit = "res.company"

    collection_auto_send_offline = fields.Boolean(
        string="Send Offline Customers' Invoices Automatically",
        help="E-mail each invoice with its PDF as soon as it is posted, when the "
        "customer pays offline (cheque, transfer, cash, money order).",
    )
    collection_cheque_payee = fields.Char(
        string="Cheques Payable To",
        help="Printed on invoices of customers paying by cheque. Defaults to the "
        "company name.",
    )
    collection_cheque_address = fields.Text(
        string="Cheque Mailing Address",
        help="Where customers send their cheques. Defaults to the company address.",
    )
    collection_cash_instructions = fields.Text(
        string="Where to Pay Cash",
        translate=True,
        help="Printed on invoices of customers paying cash, e.g. the address and "
        "opening hours of the office.",
    )
    collection_money_order_payee = fields.Char(
        string="Money Orders Payable To",
        help="Printed on invoices of customers paying by money order. Defaults to "
        "the company name.",
    )
    collection_mailing_address = fields.Text(
        string="Company Mailing Address",
        compute="_compute_collection_mailing_address",
        help="The company name and address, as printed on invoices when no cheque "
        "mailing address is set.",
    )

    collection_reminders_enabled = fields.Boolean(
        string="Send Payment Reminders",
        help="When on, each day, customers with overdue invoices receive one e-mail "
        "per customer listing them, level by level, starting with the first level. "
        "When off, no payment reminder is sent.",
    )

    collection_allow_plan_proposal = fields.Boolean(
        string="Customers May Propose Payment Plans",
        help='Customers see "Request a payment plan" on their unpaid invoices in '
        "the portal.",
    )
    collection_plan_max_installments = fields.Integer(
        string="Maximum Installments", default=12
    )
    collection_plan_max_days = fields.Integer(
        string="Maximum Plan Duration (Days)",
        default=365,
        help="The last payment of a plan must fall within this many days.",
    )
    collection_plan_min_amount = fields.Monetary(
        string="Minimum Installment Amount",
        currency_field="currency_id",
        default=20.0,
    )
    collection_plan_reason_required = fields.Boolean(string="Reason Required")
    collection_plan_allow_deferred = fields.Boolean(
        string="Allow One Deferred Payment", default=True
    )
    collection_plan_allow_weekly = fields.Boolean(
        string="Allow Weekly Installments", default=True
    )
    collection_plan_allow_monthly = fields.Boolean(
        string="Allow Monthly Installments", default=True
    )
    collection_plan_reviewer_id = fields.Many2one(
        comodel_name="res.users",
        string="Payment Plan Reviewer",
        domain="[('share', '=', False), ('company_ids', 'in', id)]",
        help="Reviews the proposals of customers without a salesperson. Empty: an "
        "accounting manager of the company.",
    )
    collection_plan_break_days = fields.Integer(
        string="Days Before a Plan Breaks",
        default=10,
        help="An installment still unpaid this many days after its date breaks the "
        "plan: invoices are unblocked and reminders resume.",
    )

    collection_registration_link_days = fields.Integer(
        string="Registration Link Validity (Days)",
        default=14,
        help="How long a link sent to a customer to save a card or a SEPA mandate "
        "stays valid.",
    )
    collection_greylist_threshold = fields.Integer(
        string="Failed Registrations Before Grey List",
        default=3,
        help="After this many consecutive failed attempts to save a card or a "
        "mandate, the customer's registration link is closed until an accountant "
        "removes them from the grey list.",
    )
    collection_retry_count = fields.Integer(
        string="Debit Retries",
        default=2,
        help="How many times a debit refused for a reason that may pass (e.g. "
        "insufficient funds) is tried again before the customer is asked to pay "
        "another way.",
    )
    collection_retry_days = fields.Integer(
        string="Days Between Retries",
        default=3,
    )
    collection_payment_link_days = fields.Integer(
        string="Payment Links Valid For (Days)",
        default=7,
        help="How long a payment link sent by e-mail or SMS (order deposit, "
        "wallet top-up, settlement of invoices) can be paid.",
    )

    _sql_constraints = [
        (
            "collection_registration_link_days_positive",
            "CHECK(collection_registration_link_days IS NULL"
            " OR collection_registration_link_days > 0)",
            "A registration link must stay valid at least one day.",
        ),
        (
            "collection_greylist_threshold_positive",
            "CHECK(collection_greylist_threshold IS NULL"
            " OR collection_greylist_threshold > 0)",
            "The grey list threshold must be at least one failed attempt.",
        ),
        (
            "collection_retry_count_positive",
            "CHECK(collection_retry_count IS NULL OR collection_retry_count >= 0)",
            "The number of debit retries cannot be negative.",
        ),
        (
            "collection_retry_days_positive",
            "CHECK(collection_retry_days IS NULL OR collection_retry_days > 0)",
            "Retries must be at least one day apart.",
        ),
        (
            "collection_payment_link_days_positive",
            "CHECK(collection_payment_link_days IS NULL "
            "OR collection_payment_link_days > 0)",
            "Payment links must be valid for at least one day.",
        ),
    ]

    @api.depends(
        "name",
        "street",
        "street2",
        "zip",
        "city",
        "state_id",
        "country_id",
    )
    def _compute_collection_mailing_address(self):
        for company in self:
            address = company.partner_id._display_address(without_company=False)
            company.collection_mailing_address = "\n".join(
                line for line in address.splitlines() if line.strip()
            )

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `base` to give new companies the default reminder levels."""
        companies = super().create(vals_list)
        self.env["collection.reminder.level"]._collection_create_default_levels(
            companies
        )
        return companies

    def _collection_plan_allowed_kinds(self):
        self.ensure_one()
        return [
            kind
            for kind, allowed in (
                ("deferred", self.collection_plan_allow_deferred),
                ("weekly", self.collection_plan_allow_weekly),
                ("monthly", self.collection_plan_allow_monthly),
            )
            if allowed
        ]

    def _collection_is_real_user(self, user):
        """Whether ``user`` is a person who can act for this company: an active
        internal user of it, not OdooBot nor the superuser."""
        self.ensure_one()
        return bool(
            user
            and user.active
            and not user.share
            and user.id != SUPERUSER_ID
            and self in user.company_ids
        )

    def _collection_plan_reviewer(self):
        """The user who reviews plans without a salesperson: the one chosen in
        the settings, else an accounting manager of the company (never
        OdooBot); an empty recordset when there is none."""
        self.ensure_one()
        if self._collection_is_real_user(self.collection_plan_reviewer_id):
            return self.collection_plan_reviewer_id
        group = self.env.ref("account.group_account_manager")
        return group.users.filtered(self._collection_is_real_user).sorted("id")[:1]

    def _collection_ensure_offline_method_lines(self):
        """Create the default offline payment method lines (cheque, transfer and
        money order on the first bank journal, cash on the first cash journal) that
        a company does not have yet, named in every installed language. Safe to
        call again."""
        manual_in = self.env.ref("account.account_payment_method_manual_in")
        Journal = self.env["account.journal"].sudo()
        # English is the source of the translated names; the other installed
        # languages get their translation just after.
        MethodLine = (
            self.env["account.payment.method.line"].sudo().with_context(lang="en_US")
        )
        labels = dict(MethodLine._selection_offline_payment_type())
        created = MethodLine
        for company in self:
            journals = {}
            for journal_type in {
                journal_type for _type, journal_type in DEFAULT_OFFLINE_LINES
            }:
                journals[journal_type] = Journal.search(
                    [("company_id", "=", company.id), ("type", "=", journal_type)],
                    order="sequence, id",
                    limit=1,
                )
            existing = MethodLine.search(
                [
                    ("journal_id", "in", [j.id for j in journals.values() if j]),
                    ("offline_payment_type", "!=", False),
                ]
            )
            done = {
                (line.journal_id.id, line.offline_payment_type) for line in existing
            }
            vals_list = [
                {
                    "name": labels[payment_type],
                    "payment_method_id": manual_in.id,
                    "journal_id": journals[journal_type].id,
                    "offline_payment_type": payment_type,
                }
                for payment_type, journal_type in DEFAULT_OFFLINE_LINES
                if journals[journal_type]
                and (journals[journal_type].id, payment_type) not in done
            ]
            created |= MethodLine.create(vals_list)
        created._collection_translate_default_names()

    # Online payments and fees (issue 10).
    collection_online_integration = fields.Selection(
        selection=[
            ("auto", "Automatically, when the provider confirms"),
            ("manual", "After review, in the Online Payments screen"),
        ],
        string="Integrate Online Payments",
        default="auto",
        required=True,
        help="Automatically: each online payment is booked (with its fee) as soon "
        "as the provider confirms it.\nAfter review: confirmed online payments wait "
        "in Invoicing > Customers > Online Payments until an accountant integrates "
        "them.",
    )
