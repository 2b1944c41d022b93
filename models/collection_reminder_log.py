# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class CollectionReminderLog(models.Model):
    _name = "collection.reminder.log"
    _description = "Reminder Sent"
