# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def _collection_post_with_author(self, company, source, **kwargs):
        """Post the mail template ``source`` on these records as the current
        user, or as ``company`` when the user is a portal or public user (the
        company sends its own e-mails) or has no e-mail address: no business
        action fails for lack of a sender address.

        :param company: the ``res.company`` the message is sent for
        :param source: the ``mail.template`` (or view) rendered
        :return: the ``mail.message`` posted
        """
        user_partner = self.env.user.partner_id
        candidates = [
            *([] if self.env.user.share else [user_partner]),
            company.partner_id,
            user_partner,
        ]
        author = next((p for p in candidates if p.email), company.partner_id)
        kwargs.setdefault("author_id", author.id)
        if author.email:
            # Like the templates: from the company's address when it has one.
            kwargs.setdefault(
                "email_from",
                company.partner_id.email_formatted or author.email_formatted,
            )
            thread = self
        else:
            # Without any address, Odoo's default sender is used.
            thread = self.sudo()
        return thread.message_post_with_source(source, **kwargs)
