# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.1.0: the plan and reminder e-mails and the reminder SMS were rewritten
(layout of the invoice e-mails, payment instructions, one button, counter-
proposal and cancellation e-mails). Their files are ``noupdate``: load them
again as at installation so that existing databases get the new texts (a
template customised by hand is replaced too, as the release notes say)."""

from odoo import SUPERUSER_ID, api
from odoo.tools import convert_file


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for filename in ("data/mail_template_data.xml", "data/sms_template_data.xml"):
        convert_file(
            env,
            "account_payment_collection",
            filename,
            {},
            mode="init",
            noupdate=True,
            kind="data",
        )
