# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .test_payment_links import PaymentLinkCommon


@tagged("post_install", "-at_install")
class TestDepositLinkTour(PaymentLinkCommon):
    """A salesperson requests a deposit by SMS from an order taken by phone."""

    def test_salesperson_requests_a_deposit_by_sms(self):
        salesman = self._make_user(
            "tour_salesman",
            "sales_team.group_sale_salesman",
            email="sales@company.example.com",
        )
        order = self._make_order()
        order.user_id = salesman
        with self.mockSMSGateway():
            self.start_tour(
                f"/odoo/action-sale.action_orders/{order.id}",
                "account_payment_collection_deposit_by_sms",
                login=salesman.login,
            )
        link = order.collection_link_ids
        self.assertEqual(len(link), 1)
        self.assertRecordValues(
            link,
            [{"purpose": "deposit", "amount": 90.0, "channel": "sms", "state": "sent"}],
        )
        self.assertEqual(len(self._sms), 1)
        self.assertEqual(self._sms[0]["number"], "+33612345678")
        self.assertIn(link.short_url, self._sms[0]["body"])


@tagged("post_install", "-at_install")
class TestWalletLinkPhoneTour(PaymentLinkCommon):
    """The customer pays a wallet top-up link on a phone."""

    browser_size = "375x667"
    touch_enabled = True

    def test_customer_tops_up_the_wallet_on_a_phone(self):
        _wizard, link = self._send(
            self.customer, collection_link_purpose="wallet", amount=50.0
        )
        self.start_tour(
            self._path(link.url), "account_payment_collection_wallet_top_up_phone"
        )
        link.invalidate_recordset()
        self.assertEqual(link.state, "paid")
        self.assertEqual(len(link.transaction_ids), 1)
        self.customer.invalidate_recordset(["collection_wallet_balance"])
        self.assertEqual(self.customer.collection_wallet_balance, 50.0)
