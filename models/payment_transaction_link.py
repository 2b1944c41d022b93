# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import SUPERUSER_ID, fields, models


class PaymentTransaction(models.Model):
    """Transactions paying a payment link: a deposit on an order, a wallet
    top-up, the settlement of chosen invoices."""

    _inherit = "payment.transaction"

    collection_link_id = fields.Many2one(
        comodel_name="collection.link",
        string="Payment Link",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
    )

    def _collection_get_link(self):
        """The link this transaction (or the transaction it refunds or
        captures) pays."""
        self.ensure_one()
        return self.collection_link_id or self.source_transaction_id.collection_link_id

    def _create_payment(self, **extra_create_values):
        """Override of `account_payment`: a wallet top-up is booked on the
        company's wallet account, for the link's customer."""
        link = self._collection_get_link()
        if link:
            extra_create_values.setdefault(
                "partner_id", link.partner_id.commercial_partner_id.id
            )
        if link.purpose == "wallet":
            account = link.company_id.collection_wallet_account_id
            if account:
                extra_create_values.setdefault("destination_account_id", account.id)
        return super()._create_payment(**extra_create_values)

    def _post_process(self):
        res = super()._post_process()
        for tx in self.filtered(
            lambda tx: tx.collection_link_id
            and tx.state == "done"
            and tx.operation != "refund"
        ):
            tx.collection_link_id._collection_on_paid(tx)
        return res

    def _get_invoices_to_notify(self):
        """Override of `account_payment`: the invoices of a settlement are
        told in one batch (`_log_message_on_linked_documents`), not one
        message_post each."""
        invoices = super()._get_invoices_to_notify()
        if self.collection_link_id.purpose == "settlement":
            return invoices.browse()
        return invoices

    def _log_message_on_linked_documents(self, message):  # pylint: disable=missing-return
        """Override of `payment`: a wallet top-up's messages go to its
        customer; a settlement's to its invoices, in one batch."""
        super()._log_message_on_linked_documents(message)
        link = self._collection_get_link()
        if link.purpose == "wallet":
            link.partner_id.sudo()._message_log(body=message)
        elif link.purpose == "settlement" and self.collection_link_id:
            author = (
                self.env.user.partner_id
                if self.env.uid == SUPERUSER_ID
                else self.partner_id
            )
            self.invoice_ids._message_log_batch(
                bodies=dict.fromkeys(self.invoice_ids.ids, message),
                author_id=author.id,
            )
