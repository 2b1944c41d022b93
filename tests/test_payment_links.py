# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from urllib.parse import parse_qsl, urlencode, urlsplit

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.sms.tests.common import MockSMS

from .common import CollectionCommon


class PaymentLinkCommon(CollectionCommon, MockSMS):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"mobile": "+33 6 12 34 56 78", "lang": "en_US"})
        cls.product = cls.env["product.product"].create(
            {"name": "Wedding cake", "list_price": 300.0, "taxes_id": [Command.clear()]}
        )
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", False)

    def _make_order(self, partner=None, price=300.0, confirm=True):
        order = self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 1,
                            "price_unit": price,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if confirm:
            order.action_confirm()
        return order

    def _wizard(self, record, **values):
        context = {"active_model": record._name, "active_id": record.id}
        if "collection_link_purpose" in values:
            context["default_collection_link_purpose"] = values.pop(
                "collection_link_purpose"
            )
        if "collection_invoice_ids" in values:
            context["default_collection_invoice_ids"] = values.pop(
                "collection_invoice_ids"
            ).ids
        Wizard = self.env["payment.link.wizard"].with_context(**context)
        wizard = Wizard.create(values)
        return wizard

    def _send(self, record, channel="email", **values):
        wizard = self._wizard(record, collection_channel=channel, **values)
        with self.mockSMSGateway():
            wizard.action_collection_send()
        link = self.env["collection.link"].search([("key", "=", wizard.collection_key)])
        self.assertEqual(len(link), 1)
        return wizard, link

    def _path(self, url):
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    def _tamper(self, url, **changes):
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        params.update({key: str(value) for key, value in changes.items()})
        return f"{parts.path}?{urlencode(params)}"

    def _open(self, url):
        return self.url_open(self._path(url) if "://" in url else url)

    def _json(self, route, params):
        response = self.url_open(
            route,
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            ),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def _tx_params(self, link, amount):
        return {
            "provider_id": self.demo_provider.id,
            "payment_method_id": self.demo_method.id,
            "token_id": None,
            "amount": amount,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/",
            "is_validation": False,
            "access_token": link.sudo().access_token,
        }

    def _pay(self, link, amount):
        """Pay a link as the payment form does with the demo provider: create the
        transaction, simulate the payment, let the post-processing job run."""
        route = f"/collection/pay/{link.key}/transaction"
        answer = self._json(route, self._tx_params(link, amount))
        self.assertNotIn("error", answer, answer.get("error"))
        reference = answer["result"]["reference"]
        self._json(
            "/payment/demo/simulate_payment",
            {
                "reference": reference,
                "payment_details": "4242",
                "simulated_state": "done",
            },
        )
        tx = self.env["payment.transaction"].search([("reference", "=", reference)])
        # What the status page (or the post-processing job) does next.
        tx._post_process()
        self.env.invalidate_all()
        return tx


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 10:00:00")
class TestPaymentLinkSending(PaymentLinkCommon):
    def test_wizard_prefills_deposit_and_customer(self):
        order = self._make_order()
        wizard = self._wizard(order)
        self.assertEqual(wizard.collection_link_purpose, "deposit")
        self.assertEqual(wizard.collection_email, "compta@boulangerie.example.com")
        self.assertEqual(wizard.collection_mobile, "+33 6 12 34 56 78")
        self.assertEqual(
            wizard.collection_expiry_date, fields.Date.to_date("2026-12-08")
        )
        wizard.collection_deposit_percent = 30
        wizard._onchange_collection_deposit_percent()
        self.assertEqual(wizard.amount, 90.0)
        self.assertIn(f"/collection/pay/{wizard.collection_key}?", wizard.link)
        # No mobile: the phone is used.
        self.customer.write({"mobile": False, "phone": "+33 4 78 00 00 00"})
        self.assertEqual(self._wizard(order).collection_mobile, "+33 4 78 00 00 00")

    def test_send_deposit_by_email(self):
        order = self._make_order()
        wizard, link = self._send(order, amount=90.0)
        self.assertRecordValues(
            link,
            [
                {
                    "partner_id": self.customer.id,
                    "purpose": "deposit",
                    "sale_order_id": order.id,
                    "amount": 90.0,
                    "state": "sent",
                    "channel": "email",
                    "recipient": "compta@boulangerie.example.com",
                    "expiry_date": fields.Date.to_date("2026-12-08"),
                }
            ],
        )
        self.assertEqual(link.url, wizard.link)
        message = order.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertIn("payment link for $\xa090.00", message.subject)
        self.assertIn(order.name, message.body)
        self.assertIn("12/08/2026", message.body)
        self.assertIn(link.url.replace("&", "&amp;"), message.body)
        self.assertEqual(message.partner_ids, self.customer)
        self.assertEqual(
            message.notification_ids.filtered(
                lambda n: n.notification_type == "email"
            ).res_partner_id,
            self.customer,
        )

    def test_send_to_another_address(self):
        order = self._make_order()
        _wizard, link = self._send(
            order, amount=50.0, collection_email="boss@example.com"
        )
        mail = self.env["mail.mail"].search([("email_to", "=", "boss@example.com")])
        self.assertEqual(len(mail), 1)
        self.assertIn("$\xa050.00", mail.body_html)
        self.assertIn("boss@example.com", order.message_ids[:1].body)
        self.assertEqual(link.recipient, "boss@example.com")

    def test_send_by_sms(self):
        order = self._make_order()
        _wizard, link = self._send(order, channel="sms", amount=90.0)
        self.assertEqual(len(self._sms), 1)
        self.assertEqual(self._sms[0]["number"], "+33612345678")
        body = self._sms[0]["body"]
        self.assertIn(link.short_url, body)
        self.assertIn("$\xa090.00", body)
        self.assertIn(order.name, body)
        self.assertIn("12/08/2026", body)
        self.assertEqual(link.channel, "sms")
        self.assertTrue(order.message_ids.filtered(lambda m: m.message_type == "sms"))
        # The short URL leads to the signed link.
        response = self.url_open(f"/collection/l/{link.key}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.headers["Location"], link.url)

    def test_send_refusals_store_nothing(self):
        order = self._make_order()
        cases = [
            ({"amount": 0.0}, "positive amount"),
            ({"amount": -5.0}, "positive amount"),
            ({"amount": 300.01}, "cannot be more than what is left to pay"),
            (
                {"amount": 10.0, "collection_email": "not-an-address"},
                "not a valid e-mail",
            ),
            ({"amount": 10.0, "collection_email": False}, "has no e-mail address"),
            (
                {
                    "amount": 10.0,
                    "collection_channel": "sms",
                    "collection_mobile": "12",
                },
                "not a valid mobile number",
            ),
            (
                {
                    "amount": 10.0,
                    "collection_channel": "sms",
                    "collection_mobile": False,
                },
                "has no mobile number",
            ),
        ]
        for values, message in cases:
            with self.subTest(values=values):
                wizard = self._wizard(order, **values)
                with self.mockSMSGateway(), self.assertRaisesRegex(UserError, message):
                    wizard.action_collection_send()
        self.assertFalse(self.env["collection.link"].search([]))
        self.assertFalse(self._sms)
        order._action_cancel()
        with self.assertRaisesRegex(UserError, "cancelled"):
            self._wizard(order, amount=10.0).action_collection_send()
        self.assertFalse(self.env["collection.link"].search([]))

    def test_settlement_refusals(self):
        first = self._make_invoice(self.customer, 100.0)
        second = self._make_invoice(self.customer, 50.0)
        draft = self._make_invoice(self.customer, 30.0, post=False)
        other = self._make_invoice(self.other_customer, 40.0)
        paid = self._make_invoice(self.customer, 20.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids
        ).create({})._create_payments()
        held = self._make_invoice(self.customer, 60.0)
        held.collection_block_reason = "dispute"
        eur = self.env.ref("base.EUR")
        eur.active = True
        foreign = self._make_invoice(self.customer, 10.0, post=False)
        foreign.currency_id = eur
        foreign.action_post()
        cases = [
            (other, "is not Boulangerie Martin's"),
            (draft, "is not a posted customer invoice"),
            (paid, "is already paid"),
            (held, "is on hold"),
            (foreign, "is in EUR"),
        ]
        for invoice, message in cases:
            with self.subTest(invoice=invoice.name):
                wizard = self._wizard(
                    self.customer,
                    collection_link_purpose="settlement",
                    collection_invoice_ids=first + invoice,
                )
                with self.assertRaisesRegex(UserError, message):
                    wizard.action_collection_send()
        wizard = self._wizard(
            self.customer,
            collection_link_purpose="settlement",
            collection_invoice_ids=first + second,
        )
        self.assertEqual(wizard.amount, 150.0)
        wizard.amount = 100.0
        with self.assertRaisesRegex(UserError, "cannot be for another amount"):
            wizard.action_collection_send()
        self.assertFalse(self.env["collection.link"].search([]))

    def test_only_accountants_send_wallet_and_settlement(self):
        salesman = self._make_user("links_salesman", "sales_team.group_sale_salesman")
        invoice = self._make_invoice(self.customer, 100.0)
        wizard = self._wizard(
            self.customer,
            collection_link_purpose="settlement",
            collection_invoice_ids=invoice,
        )
        with self.assertRaises(AccessError):
            wizard.with_user(salesman).action_collection_send()
        # A salesperson requests deposits on orders.
        order = self._make_order()
        wizard = self._wizard(order, amount=20.0).with_user(salesman)
        with self.mockSMSGateway():
            wizard.action_collection_send()
        self.assertEqual(len(order.collection_link_ids), 1)

    def test_revoke_and_expire(self):
        order = self._make_order()
        _wizard, link = self._send(order, amount=90.0)
        _wizard, other = self._send(
            self._make_order(partner=self.other_customer), amount=10.0
        )
        self.customer.action_collection_revoke_links()
        self.assertEqual(link.state, "revoked")
        self.assertEqual(other.state, "sent")
        with freeze_time("2026-12-09"):
            self.env["collection.link"]._cron_collection_expire_links()
        self.assertEqual(other.state, "expired")


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 10:00:00")
class TestPaymentLinkPayment(PaymentLinkCommon):
    def test_deposit_end_to_end(self):
        order = self._make_order()
        _wizard, link = self._send(order, amount=90.0)
        page = self._open(link.url)
        self.assertEqual(page.status_code, 200)
        self.assertIn('data-amount="90.0"', page.text)
        self.assertIn(f"Deposit on order {order.name}", page.text)
        self.assertIn(
            f'data-transaction-route="/collection/pay/{link.key}/transaction"',
            page.text,
        )

        tx = self._pay(link, 90.0)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.sale_order_ids, order)
        self.assertEqual(tx.collection_link_id, link)
        payment = tx.payment_id
        self.assertEqual(payment.state, "in_process")
        self.assertEqual(payment.amount, 90.0)
        self.assertEqual(payment.partner_id, self.customer)
        self.assertEqual(
            payment.destination_account_id, self.customer.property_account_receivable_id
        )
        self.assertRecordValues(
            order,
            [
                {
                    "collection_deposit_received": True,
                    "collection_deposit_amount": 90.0,
                    "collection_deposit_date": fields.Date.to_date("2026-12-01"),
                    "collection_deposit_transaction_id": tx.id,
                    "amount_paid": 90.0,
                }
            ],
        )
        self.assertEqual(link.state, "paid")
        self.assertEqual(link.transaction_id, tx)
        self.assertIn("Payment link paid", order.message_ids.mapped("body")[0])
        filtered = self.env["sale.order"].search(
            [("collection_deposit_received", "=", True)]
        )
        self.assertEqual(filtered, order)

        # Paid: opening it again says so, paying it again is refused.
        page = self._open(link.url)
        self.assertIn("Thank you, this link is paid.", page.text)
        self.assertNotIn("o_payment_form", page.text)
        with mute_logger("odoo.http"):
            answer = self._json(
                f"/collection/pay/{link.key}/transaction", self._tx_params(link, 90.0)
            )
        self.assertIn("already been paid", answer["error"]["data"]["message"])

        # The deposit is deducted from the final invoice, once.
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.amount_total, 300.0)
        self.assertEqual(invoice.amount_residual, 210.0)
        self.assertTrue(payment.is_reconciled)
        tx._post_process()
        self.assertEqual(invoice.amount_residual, 210.0)
        self.assertEqual(len(tx.payment_id), 1)

    def test_settlement_end_to_end(self):
        first = self._make_invoice(self.customer, 100.0)
        second = self._make_invoice(self.customer, 50.25)
        _wizard, link = self._send(
            self.customer,
            collection_link_purpose="settlement",
            collection_invoice_ids=first + second,
        )
        self.assertEqual(link.amount, 150.25)
        self.assertEqual(link.invoice_ids, first + second)
        page = self._open(link.url)
        self.assertIn('data-amount="150.25"', page.text)
        self.assertIn(first.name, page.text)
        tx = self._pay(link, 150.25)
        self.assertEqual(tx.invoice_ids, first + second)
        self.assertEqual(len(tx.payment_id), 1)
        self.assertIn(first.payment_state, ("in_payment", "paid"))
        self.assertIn(second.payment_state, ("in_payment", "paid"))
        self.assertEqual(first.amount_residual + second.amount_residual, 0.0)
        self.assertEqual(link.state, "paid")
        self.assertIn("Payment link paid", self.customer.message_ids.mapped("body")[0])

    def test_settlement_of_invoices_paid_meanwhile(self):
        first = self._make_invoice(self.customer, 100.0)
        second = self._make_invoice(self.customer, 50.0)
        _wizard, link = self._send(
            self.customer,
            collection_link_purpose="settlement",
            collection_invoice_ids=first + second,
        )
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=first.ids
        ).create({})._create_payments()
        page = self._open(link.url)
        self.assertIn('data-amount="50.0"', page.text)
        self.assertIn("has been paid meanwhile", page.text)
        with mute_logger("odoo.http"):
            answer = self._json(
                f"/collection/pay/{link.key}/transaction", self._tx_params(link, 150.0)
            )
        self.assertIn("amount to pay has changed", answer["error"]["data"]["message"])
        self.assertFalse(link.transaction_ids)
        tx = self._pay(link, 50.0)
        self.assertEqual(tx.amount, 50.0)
        self.assertEqual(tx.invoice_ids, second)
        self.assertEqual(second.amount_residual, 0.0)
        # All paid by other means: nothing left to pay.
        third = self._make_invoice(self.customer, 20.0)
        _wizard, link = self._send(
            self.customer,
            collection_link_purpose="settlement",
            collection_invoice_ids=third,
        )
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=third.ids
        ).create({})._create_payments()
        page = self._open(link.url)
        self.assertIn("There is nothing left to pay", page.text)

    def test_tampered_links_are_not_found(self):
        order = self._make_order()
        _wizard, link = self._send(order, amount=90.0)
        other_order = self._make_order(partner=self.other_customer)
        for changes in (
            {"amount": "1.00"},
            {"partner_id": self.other_customer.id},
            {"order_id": other_order.id},
            {"expiry": "2027-12-31"},
            {"v": 5},
            {"purpose": "wallet"},
            {"access_token": "0" * 64},
        ):
            with self.subTest(changes=changes):
                response = self.url_open(self._tamper(link.url, **changes))
                self.assertEqual(response.status_code, 404)
        response = self.url_open(
            f"/collection/pay/{'x' * 22}?{urlsplit(link.url).query}"
        )
        self.assertEqual(response.status_code, 404)
        # Another token on the transaction route: not found, nothing created.
        params = self._tx_params(link, 90.0)
        params["access_token"] = "forged"
        with mute_logger("odoo.http"):
            answer = self._json(f"/collection/pay/{link.key}/transaction", params)
        self.assertIn("error", answer)
        self.assertFalse(link.transaction_ids)

    def test_another_customer_gets_404(self):
        order = self._make_order()
        _wizard, link = self._send(order, amount=90.0)
        intruder = self._make_user(
            "links_intruder", "base.group_portal", partner_id=self.other_customer.id
        )
        self.authenticate(intruder.login, intruder.login)
        self.assertEqual(self._open(link.url).status_code, 404)
        with mute_logger("odoo.http"):
            answer = self._json(
                f"/collection/pay/{link.key}/transaction", self._tx_params(link, 90.0)
            )
        self.assertIn("error", answer)
        self.assertFalse(link.transaction_ids)
        # The customer's own portal user opens it.
        own = self._make_user(
            "links_own", "base.group_portal", partner_id=self.contact.id
        )
        self.authenticate(own.login, own.login)
        self.assertEqual(self._open(link.url).status_code, 200)

    def test_expired_and_revoked_links(self):
        order = self._make_order()
        _wizard, link = self._send(order, amount=90.0)
        with freeze_time("2026-12-09 10:00:00"):
            page = self._open(link.url)
            self.assertEqual(page.status_code, 403)
            self.assertIn("This payment link has expired.", page.text)
            with mute_logger("odoo.http"):
                answer = self._json(
                    f"/collection/pay/{link.key}/transaction",
                    self._tx_params(link, 90.0),
                )
            self.assertIn("has expired", answer["error"]["data"]["message"])
        self.assertEqual(link.state, "expired")
        _wizard, link = self._send(order, amount=90.0)
        self.customer.action_collection_revoke_links()
        page = self._open(link.url)
        self.assertEqual(page.status_code, 403)
        self.assertIn("no longer valid", page.text)
        # A link copied from the wizard before the revocation is revoked too.
        copied = self._wizard(order, amount=20.0)
        url = copied.link
        self.customer.action_collection_revoke_links()
        self.assertEqual(self._open(url).status_code, 403)
        self.assertFalse(order.transaction_ids)

    def test_copied_link_is_stored_once_and_paid_once(self):
        order = self._make_order()
        wizard = self._wizard(order, amount=40.0)
        self.assertEqual(self._open(wizard.link).status_code, 200)
        self.assertEqual(self._open(wizard.link).status_code, 200)
        link = self.env["collection.link"].search([("key", "=", wizard.collection_key)])
        self.assertEqual(len(link), 1)
        self.assertEqual(link.channel, "copy")
        self.assertEqual(link.amount, 40.0)
        # Two tabs: the first pays, the second is refused; one payment.
        self._pay(link, 40.0)
        with mute_logger("odoo.http"):
            answer = self._json(
                f"/collection/pay/{link.key}/transaction", self._tx_params(link, 40.0)
            )
        self.assertIn("already been paid", answer["error"]["data"]["message"])
        self.assertEqual(len(link.transaction_ids), 1)
        self.assertEqual(
            len(
                order.transaction_ids.payment_id.filtered(lambda p: p.state != "draft")
            ),
            1,
        )
        self.assertEqual(order.collection_deposit_amount, 40.0)

    def test_post_processing_twice_books_once(self):
        order = self._make_order()
        _wizard, link = self._send(order, amount=90.0)
        tx = self._pay(link, 90.0)
        payment = tx.payment_id
        tx._post_process()
        tx._post_process()
        self.assertEqual(tx.payment_id, payment)
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("payment_transaction_id", "=", tx.id)]
            ),
            1,
        )
        self.assertEqual(order.collection_deposit_amount, 90.0)

    def test_wallet_top_up_end_to_end(self):
        self.assertEqual(self.customer.collection_wallet_balance, 0.0)
        _wizard, link = self._send(
            self.customer, collection_link_purpose="wallet", amount=50.0
        )
        self.assertEqual(link.purpose, "wallet")
        message = self.customer.message_ids.filtered(
            lambda m: m.message_type == "comment"
        )[:1]
        self.assertIn("a top-up of your wallet", message.body)
        page = self._open(link.url)
        self.assertIn("Top up your wallet", page.text)
        self.assertIn('data-amount="50.0"', page.text)
        tx = self._pay(link, 50.0)
        payment = tx.payment_id
        self.assertEqual(payment.partner_id, self.customer)
        self.assertEqual(
            payment.destination_account_id, self.company.collection_wallet_account_id
        )
        wallet_line = payment.move_id.line_ids.filtered(
            lambda line: line.account_id == self.company.collection_wallet_account_id
        )
        self.assertEqual(wallet_line.credit, 50.0)
        self.assertEqual(wallet_line.partner_id, self.customer)
        self.customer.invalidate_recordset(["collection_wallet_balance"])
        self.assertEqual(self.customer.collection_wallet_balance, 50.0)
        self.assertEqual(link.state, "paid")
        # Post-processed again (the job, the status page): credited once.
        tx._post_process()
        self.customer.invalidate_recordset(["collection_wallet_balance"])
        self.assertEqual(self.customer.collection_wallet_balance, 50.0)
        self.assertIn("Your wallet is credited.", self._open(link.url).text)
        # The wallet pays an invoice.
        invoice = self._make_invoice(self.customer, 30.0)
        invoice.action_collection_pay_with_wallet()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.customer.invalidate_recordset(["collection_wallet_balance"])
        self.assertEqual(self.customer.collection_wallet_balance, 20.0)

    def test_wallet_link_needs_a_wallet_account(self):
        self.company.collection_wallet_account_id = False
        wizard = self._wizard(
            self.customer, collection_link_purpose="wallet", amount=50.0
        )
        with self.assertRaisesRegex(UserError, "No wallet account"):
            wizard.action_collection_send()
        self.assertFalse(self.env["collection.link"].search([]))

    def test_draft_quotation_deposit_confirms_it(self):
        order = self._make_order(confirm=False)
        order.write({"require_payment": True, "prepayment_percent": 0.3})
        wizard, link = self._send(order, amount=90.0)
        self.assertEqual(
            wizard.confirmation_message, "This payment will confirm the quotation."
        )
        self._pay(link, 90.0)
        self.assertEqual(order.state, "sale")
        self.assertTrue(order.collection_deposit_received)

    def test_settlement_link_from_the_invoice_list(self):
        first = self._make_invoice(self.customer, 100.0)
        other = self._make_invoice(self.other_customer, 40.0)
        with self.assertRaisesRegex(UserError, "invoices of one customer"):
            (first + other).action_collection_send_payment_link()
        action = first.action_collection_send_payment_link()
        wizard = (
            self.env["payment.link.wizard"].with_context(**action["context"]).create({})
        )
        self.assertEqual(wizard.collection_link_purpose, "settlement")
        self.assertEqual(wizard.collection_invoice_ids, first)
        self.assertEqual(wizard.amount, 100.0)
        # From the customer: all the open invoices, oldest due first.
        second = self._make_invoice(self.customer, 20.0, due_date="2026-11-15")
        action = self.customer.action_collection_settle_invoices()
        wizard = (
            self.env["payment.link.wizard"].with_context(**action["context"]).create({})
        )
        self.assertEqual(wizard.collection_invoice_ids, second + first)
        self.assertEqual(wizard.amount, 120.0)
        with self.assertRaisesRegex(UserError, "no open invoice"):
            self.other_customer.copy().action_collection_settle_invoices()


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01 10:00:00")
class TestQuotationDeposit(PaymentLinkCommon):
    """A quotation's fixed deposit, paid online from its portal page, once."""

    def _quotation(self, fixed=100.0):
        order = self._make_order(confirm=False)
        order.write(
            {
                "require_payment": True,
                "prepayment_percent": 0.5,
                "collection_deposit_fixed_amount": fixed,
            }
        )
        return order

    def _portal_tx(self, order, amount):
        params = self._tx_params(self.env["collection.link"], amount)
        params["access_token"] = order._portal_ensure_token()
        return self._json(f"/my/orders/{order.id}/transaction", params)

    def test_fixed_deposit_replaces_the_percentage(self):
        order = self._quotation()
        self.assertEqual(order._get_prepayment_required_amount(), 100.0)
        order.collection_deposit_fixed_amount = 0.0
        self.assertEqual(order._get_prepayment_required_amount(), 150.0)
        with self.assertRaisesRegex(ValidationError, "cannot be more than its total"):
            order.collection_deposit_fixed_amount = 300.01
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            order.collection_deposit_fixed_amount = -1.0

    def test_one_online_deposit_per_quotation(self):
        order = self._quotation()
        self.assertTrue(order._has_to_be_paid())
        with mute_logger("odoo.http"):
            answer = self._portal_tx(order, 10.0)
        self.assertIn("amount to pay has changed", answer["error"]["data"]["message"])
        self.assertFalse(order.transaction_ids)
        answer = self._portal_tx(order, 100.0)
        tx = self.env["payment.transaction"].search(
            [("reference", "=", answer["result"]["reference"])]
        )
        tx._set_pending()
        self.assertFalse(order._has_to_be_paid())
        with mute_logger("odoo.http"):
            answer = self._portal_tx(order, 100.0)
        self.assertIn("already being processed", answer["error"]["data"]["message"])
        self.assertEqual(len(order.transaction_ids), 1)
        # Confirmed by the provider: the quotation is confirmed, as in Odoo.
        tx._set_done()
        tx._post_process()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.collection_deposit_amount, 100.0)
        self.assertEqual(tx.payment_id.amount, 100.0)

    def test_quotation_pdf_offers_the_deposit_online(self):
        order = self._quotation()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("sale.action_report_saleorder", order.ids)[0]
            .decode()
        )
        self.assertIn("o_account_payment_collection_pay_online", html)
        self.assertIn('$\xa0<span class="oe_currency_value">100.00</span>', html)
        self.assertIn(order.get_portal_url().replace("&", "&amp;"), html)
        self.assertIn("data:image/png;base64,", html)
        order.require_payment = False
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("sale.action_report_saleorder", order.ids)[0]
            .decode()
        )
        self.assertNotIn("o_account_payment_collection_pay_online", html)
