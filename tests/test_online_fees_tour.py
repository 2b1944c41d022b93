# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestOnlinePaymentsTour(CollectionCommon, HttpCase):
    def test_accountant_integrates_online_payments(self):
        """An accountant opens Invoicing > Customers > Online Payments, selects
        the payments waiting, integrates them and sees them integrated."""
        self.company.collection_online_integration = "manual"
        accountant = self._make_user(
            "fees_tour_accountant",
            "account.group_account_invoice,base.group_user",
        )
        txs = self.env["payment.transaction"]
        invoices = self.env["account.move"]
        for amount in (150.0, 60.0):
            invoice = self._make_invoice(self.customer, amount)
            tx = txs.create(
                {
                    "provider_id": self.demo_provider.id,
                    "payment_method_id": self.card_method.id,
                    "reference": txs._compute_reference("demo", prefix=invoice.name),
                    "amount": amount,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": self.customer.id,
                    "operation": "online_redirect",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
            tx._set_done()
            tx._post_process()
            txs |= tx
            invoices |= invoice
        txs[0]._collection_set_fee(2.5)
        self.assertEqual(
            set(txs.mapped("collection_integration_state")), {"to_integrate"}
        )
        self.start_tour(
            "/odoo",
            "account_payment_collection_online_payments",
            login=accountant.login,
        )
        self.env.invalidate_all()
        self.assertEqual(
            set(txs.mapped("collection_integration_state")), {"integrated"}
        )
        self.assertEqual(len(txs.payment_id), 2)
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0])
        self.assertTrue(all(invoices.mapped("collection_paid_online")))
        self.assertEqual(txs[0].payment_id.amount, 147.5)
