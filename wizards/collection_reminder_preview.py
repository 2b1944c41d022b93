# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.exceptions import UserError

# The layout of the reminders (see res.partner._collection_send_reminder).
REMINDER_MAIL_LAYOUT = "account_payment_collection.collection_reminder_mail_layout"


class CollectionReminderPreview(models.TransientModel):
    _name = "collection.reminder.preview"
    _description = "Payment Reminders Preview"

    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    reminders_enabled = fields.Boolean(
        related="company_id.collection_reminders_enabled"
    )
    line_ids = fields.One2many(
        comodel_name="collection.reminder.preview.line",
        inverse_name="wizard_id",
        string="Reminders",
        readonly=True,
    )

    @api.model
    def action_open(self):
        """Open the preview of what the next run of the reminders job sends in
        the current company, computed by the job's own code, even while the
        reminders are switched off. Nothing is sent or written, but the preview.

        :return: the window action of the preview
        :rtype: dict
        """
        company = self.env.company
        preview = self.create(
            {
                "company_id": company.id,
                "line_ids": [
                    Command.create(values)
                    for values in self._prepare_line_values(company)
                ],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Preview Reminders"),
            "res_model": self._name,
            "res_id": preview.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.model
    def _prepare_line_values(self, company):
        """Return the values of the preview lines: one per customer the job would
        remind in ``company``, with the invoices listed and the level of the
        e-mail, as ``_cron_send_reminders`` would send them."""
        Move = self.env["account.move"]
        Level = self.env["collection.reminder.level"]
        Partner = self.env["res.partner"]
        values_list = []
        for (
            company_id,
            partner_id,
            move_ids,
            level_ids,
        ) in Move._collection_prepare_reminders(companies=company):
            moves = Move.browse(move_ids)
            levels_by_move = {
                Move.browse(move_id): Level.browse(level_id)
                for move_id, level_id in level_ids.items()
            }
            partner = Partner.browse(partner_id).with_company(company_id)
            recipients = partner._collection_get_reminder_recipients(moves)
            values_list.append(
                {
                    "company_id": company_id,
                    "partner_id": partner_id,
                    "invoice_ids": [Command.set(move_ids)],
                    "reminded_invoice_ids": [Command.set(list(level_ids))],
                    "level_id": partner._collection_get_reminder_level(
                        moves, levels_by_move
                    ).id,
                    "recipient_email": ", ".join(recipients.mapped("email")),
                }
            )
        return values_list


class CollectionReminderPreviewLine(models.TransientModel):
    _name = "collection.reminder.preview.line"
    _description = "Payment Reminder Preview"
    _order = "id"

    wizard_id = fields.Many2one(
        comodel_name="collection.reminder.preview",
        required=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(comodel_name="res.company", required=True)
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", required=True
    )
    recipient_email = fields.Char(
        string="E-mail",
        help="Where the reminder goes: the invoices' contacts, else the customer. "
        "Empty: the customer has no e-mail address and is not reminded.",
    )
    level_id = fields.Many2one(
        comodel_name="collection.reminder.level",
        help="The level of the e-mail: the highest of those due on the invoices "
        "and of those already sent for the invoices listed.",
    )
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        relation="collection_reminder_preview_line_move_rel",
        column1="line_id",
        column2="move_id",
        string="Invoices Listed",
    )
    reminded_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        relation="collection_reminder_preview_line_reminded_move_rel",
        column1="line_id",
        column2="move_id",
        string="Invoices Reaching a Level",
        help="The invoices whose next level is due: the job records it for each.",
    )

    def action_send_test(self):
        """Send the current user, and only them, the reminder this customer would
        receive, rendered as the job renders it: nothing is posted on the
        customer, logged or recorded on the invoices.

        :raise: ``UserError`` when the current user has no e-mail address
        """
        self.ensure_one()
        user = self.env.user
        if not user.email:
            raise UserError(
                self.env._(
                    "Add an e-mail address to your preferences to receive the test."
                )
            )
        moves = self.invoice_ids
        # The links to pay online work in the test too.
        moves._collection_ensure_access_token()
        partner = self.partner_id.with_company(self.company_id).with_context(
            collection_reminder_move_ids=moves.ids
        )
        template = self.level_id.mail_template_id.with_env(partner.env)
        mail = (
            self.env["mail.mail"]
            .sudo()
            .browse(
                template.send_mail(
                    partner.id,
                    email_values={
                        # To the user only, on no document: no chatter, no follower.
                        "email_to": user.email_formatted,
                        "recipient_ids": [],
                        "partner_ids": [],
                        "model": False,
                        "res_id": False,
                    },
                    email_layout_xmlid=REMINDER_MAIL_LAYOUT,
                )
            )
        )
        mail.subject = self.env._("[Test] %(subject)s", subject=mail.subject)
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "The reminder of %(partner)s was sent to %(email)s only.",
                    partner=self.partner_id.display_name,
                    email=user.email,
                ),
            },
        }
