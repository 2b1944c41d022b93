# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.2.0: automatic collection through Stripe and GoCardless. The
GoCardless provider record comes from a ``noupdate`` file, created by the
update; give it Odoo's payment method line on the bank journals as the
installation does (``setup_provider``)."""

from odoo import SUPERUSER_ID, api

from odoo.addons.payment import setup_provider


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    setup_provider(env, "gocardless")
