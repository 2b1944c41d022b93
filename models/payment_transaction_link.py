# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


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

    def _log_message_on_linked_documents(self, message):
        """Override of `payment`: a wallet top-up's messages go to its customer."""
        super()._log_message_on_linked_documents(message)
        link = self._collection_get_link()
        if link.purpose == "wallet":
            link.partner_id.sudo()._message_log(body=message)
