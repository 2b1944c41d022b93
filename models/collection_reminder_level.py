# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class CollectionReminderLevel(models.Model):
    _name = "collection.reminder.level"
    _description = "Reminder Level"
