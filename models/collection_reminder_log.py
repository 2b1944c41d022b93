# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class CollectionReminderLog(models.Model):
    _name = "collection.reminder.log"
    _description = "Reminder Sent"
    _order = "date desc, id desc"
    _rec_name = "move_id"

    move_id = fields.Many2one(
        comodel_name="account.move",
        string="Invoice",
        required=True,
        index=True,
        ondelete="cascade",
    )
    level_id = fields.Many2one(
        comodel_name="collection.reminder.level",
        required=True,
        ondelete="restrict",
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, index=True, ondelete="cascade"
    )
    mail_message_id = fields.Many2one(
        comodel_name="mail.message", string="E-mail", ondelete="set null"
    )

    # The database guarantees that each level is sent once per invoice, whatever
    # the retries, crashes or concurrent runs.
    _sql_constraints = [
        (
            "move_level_unique",
            "UNIQUE(move_id, level_id)",
            "This reminder level was already sent for this invoice.",
        ),
    ]
