# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The levels every company starts with (copies of the main company's ones).
DEFAULT_LEVEL_XMLIDS = (
    "account_payment_collection.collection_reminder_level_courteous",
    "account_payment_collection.collection_reminder_level_firm",
    "account_payment_collection.collection_reminder_level_final",
)


class CollectionReminderLevel(models.Model):
    _name = "collection.reminder.level"
    _description = "Reminder Level"
    _order = "company_id, days_after_due, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    days_after_due = fields.Integer(
        string="Days After Due Date",
        required=True,
        help="Each invoice receives the levels one by one, in increasing order of "
        "days, starting with the first whatever its age: a level is sent once the "
        "invoice is overdue by this many days and, after the first, once the "
        "difference with the previous level's days has passed since the previous "
        "reminder.",
    )
    mail_template_id = fields.Many2one(
        comodel_name="mail.template",
        string="E-mail Template",
        required=True,
        ondelete="restrict",
        domain=[("model", "=", "res.partner")],
        help="One e-mail per customer, rendered on the customer, lists all their "
        "overdue invoices.",
    )
    send_sms = fields.Boolean(
        string="Send an SMS",
        help="Also send a text message to the customer's mobile number.",
    )
    sms_template_id = fields.Many2one(
        comodel_name="sms.template",
        string="SMS Template",
        ondelete="restrict",
        domain=[("model", "=", "res.partner")],
    )

    _sql_constraints = [
        (
            "days_after_due_positive",
            "CHECK(days_after_due > 0)",
            "The number of days after the due date must be positive.",
        ),
        (
            "days_after_due_company_unique",
            "UNIQUE(company_id, days_after_due)",
            "A reminder level (maybe archived) already exists for this number of "
            "days after the due date in this company.",
        ),
    ]

    @api.constrains("mail_template_id", "send_sms", "sms_template_id")
    def _check_templates(self):
        for level in self:
            if level.mail_template_id.model != "res.partner":
                raise ValidationError(
                    self.env._(
                        "The e-mail template of the reminder level %(level)s must "
                        "apply to contacts: one e-mail per customer lists all their "
                        "overdue invoices.",
                        level=level.name,
                    )
                )
            if level.send_sms and not level.sms_template_id:
                raise ValidationError(
                    self.env._(
                        "Choose the SMS template of the reminder level %(level)s.",
                        level=level.name,
                    )
                )
            if level.sms_template_id and level.sms_template_id.model != "res.partner":
                raise ValidationError(
                    self.env._(
                        "The SMS template of the reminder level %(level)s must apply "
                        "to contacts.",
                        level=level.name,
                    )
                )

    @api.model
    def _collection_create_default_levels(self, companies=None):
        """Give each company without any reminder level (archived ones included) a
        copy of the default levels of the main company: courteous, firm and final
        notice. Safe to call again.

        :param companies: ``res.company`` records, all companies when not given
        :return: the levels created
        """
        Level = self.sudo().with_context(active_test=False)
        if companies is None:
            companies = self.env["res.company"].sudo().search([])
        defaults = Level.browse()
        for xmlid in DEFAULT_LEVEL_XMLIDS:
            defaults |= self.env.ref(xmlid, raise_if_not_found=False) or Level
        if not defaults:
            return Level
        companies_with_levels = Level.search(
            [("company_id", "in", companies.ids)]
        ).company_id
        created = Level.browse()
        for company in companies - companies_with_levels:
            for level in defaults:
                created |= level.copy({"company_id": company.id, "active": True})
        return created
