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
        values = self._collection_get_author_values(company)
        thread = self.with_env(values.pop("env"))
        for name, value in values.items():
            kwargs.setdefault(name, value)
        return thread.message_post_with_source(source, **kwargs)

    def _collection_get_author_values(self, company):
        """The author and sender of a message the add-on sends for
        ``company``: the current user, or the company when the user is a portal
        or public user or has no e-mail address.

        :return: ``author_id``, ``email_from`` when there is one, and ``env``,
            the environment to post in (superuser when nobody has an address,
            so that Odoo's default sender is used)
        """
        user_partner = self.env.user.partner_id
        candidates = [
            *([] if self.env.user.share else [user_partner]),
            company.partner_id,
            user_partner,
        ]
        author = next((p for p in candidates if p.email), company.partner_id)
        values = {"author_id": author.id}
        if author.email:
            # Like the templates: from the company's address when it has one.
            values["email_from"] = (
                company.partner_id.email_formatted or author.email_formatted
            )
            values["env"] = self.env
        else:
            # Without any address, Odoo's default sender is used.
            values["env"] = self.sudo().env
        return values
