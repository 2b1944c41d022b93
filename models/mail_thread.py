# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def _collection_post_with_author(self, company, source, **kwargs):
        """Post the mail template ``source`` on these records as the current
        user, or as ``company`` when the user has no e-mail address: no business
        action fails for lack of a sender address.

        :param company: the ``res.company`` the message is sent for
        :param source: the ``mail.template`` (or view) rendered
        :return: the ``mail.message`` posted
        """
        author = self.env.user.partner_id
        thread = self
        if not author.email:
            author = company.partner_id
            # Without any address, Odoo's default sender is used.
            thread = self if author.email else self.sudo()
        kwargs.setdefault("author_id", author.id)
        return thread.message_post_with_source(source, **kwargs)
