# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.payment import utils as payment_utils

from ..const import GOCARDLESS_FEE_ITEM_TYPES
from .payment_provider import GoCardlessError

_logger = logging.getLogger(__name__)


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    collection_fee_account_id = fields.Many2one(
        comodel_name="account.account",
        string="Commission Account",
        check_company=True,
        copy=False,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="The expense account the provider's fees (commissions) are booked on "
        "when its payments are integrated into accounting. The payments themselves "
        "are booked on the provider's journal.",
    )

    @api.constrains("collection_fee_account_id", "company_id")
    def _check_collection_fee_account_company(self):
        for provider in self.filtered("collection_fee_account_id"):
            account = provider.collection_fee_account_id
            if provider.company_id not in account.company_ids:
                raise ValidationError(
                    self.env._(
                        "The commission account %(account)s belongs to another "
                        "company than the payment provider %(provider)s "
                        "(%(company)s): choose an account of %(company)s.",
                        account=account.display_name,
                        provider=provider.name,
                        company=provider.company_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `payment` to give new providers the default commission
        account of their company."""
        providers = super().create(vals_list)
        providers.filtered(
            lambda p: not p.collection_fee_account_id
        )._collection_set_default_fee_account()
        return providers

    def _collection_set_default_fee_account(self):
        """Give these providers, when they have none, the default commission
        account of their company (created if the chart has none)."""
        for provider in self.filtered(lambda p: not p.collection_fee_account_id):
            account = provider.company_id._collection_get_default_fee_account()
            if account:
                provider.collection_fee_account_id = account

    def _collection_get_fee_account(self):
        """The commission account of the provider, its company's default when
        none was chosen.

        :raise ValidationError: when there is none (a company without chart)
        """
        self.ensure_one()
        self._collection_set_default_fee_account()
        if not self.collection_fee_account_id:
            raise ValidationError(
                self.env._(
                    "Set the commission account of the payment provider %(provider)s "
                    "before integrating its payments.",
                    provider=self.name,
                )
            )
        return self.collection_fee_account_id

    def _gocardless_collection_process_payout(self, payout_id, cache=None):
        """A GoCardless payout was paid: record the exact fees of its payments
        (its ``gocardless_fee`` and ``app_fee`` items), booking those of payments
        already booked.

        :param str payout_id: ``PO…``
        :return: whether a payment of these providers is in the payout
        :rtype: bool
        """
        if not payout_id or not self:
            return False
        provider = self[:1]
        items = []
        params = {"payout": payout_id, "limit": 500}
        while True:
            try:
                response = provider._gocardless_call(
                    "payout_items", "list", params=params
                )
            except GoCardlessError as error:
                if error.status not in (404, 410):
                    raise
                # Not this account's payout, or older than GoCardless keeps.
                _logger.info(
                    "gocardless payout %s: no items (HTTP %s)", payout_id, error.status
                )
                return False
            items.extend(response.records)
            if not response.after or not response.records:
                break
            params = {**params, "after": response.after}
        fees = {}
        paid_out = set()
        for item in items:
            payment_id = item.links.payment
            if not payment_id:
                continue
            if item.type == "payment_paid_out":
                paid_out.add(payment_id)
            elif item.type in GOCARDLESS_FEE_ITEM_TYPES:
                # In cents, negative: taken from the payout.
                fees[payment_id] = fees.get(payment_id, 0.0) - float(item.amount or 0)
        payment_ids = paid_out | set(fees)
        txs = (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("provider_id", "in", self.ids),
                    ("provider_reference", "in", list(payment_ids)),
                ]
            )
        )
        for tx in txs:
            fee = payment_utils.to_major_currency_units(
                round(fees.get(tx.provider_reference, 0.0)), tx.currency_id
            )
            tx.with_company(tx.company_id)._collection_set_fee(fee)
        _logger.info(
            "gocardless payout %s: %s items, fees of %s transactions",
            payout_id,
            len(items),
            len(txs),
        )
        return bool(txs)
