# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import secrets

from werkzeug import urls

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, consteq, float_repr, format_amount, format_date
from odoo.tools.misc import hmac

_logger = logging.getLogger(__name__)

# The layout of the add-on's e-mails: the invoice e-mails', without the
# "Your Contact" block.
REMINDER_MAIL_LAYOUT = "account_payment_collection.collection_reminder_mail_layout"

LINK_SIGNATURE_SCOPE = "account_payment_collection-payment-link"
# The states in which a link can still be paid.
LINK_PAYABLE_STATES = ("sent",)
# A transaction in these states means the link is paid or being paid.
LINK_PAYING_TX_STATES = ("pending", "authorized", "done")


def new_link_key():
    """A random, URL-safe key naming a payment link (128 bits)."""
    return secrets.token_urlsafe(16)


class CollectionLink(models.Model):
    """A payment link sent to a customer, by e-mail or SMS, or copied: what it
    pays for (a deposit on an order, a wallet top-up, the settlement of chosen
    invoices), for how much, until when, and whether it was paid.

    The link's URL carries its parameters signed with the database secret, so
    that a link copied from the wizard works before it is stored; opening it
    stores it. Every check is made again on the stored link when paying."""

    _name = "collection.link"
    _description = "Payment Link"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    key = fields.Char(required=True, readonly=True, copy=False, index=True)
    access_token = fields.Char(readonly=True, copy=False, groups="base.group_system")
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency", required=True, readonly=True
    )
    purpose = fields.Selection(
        selection=[
            ("deposit", "Order Deposit"),
            ("wallet", "Wallet Top-up"),
            ("settlement", "Settlement of Invoices"),
        ],
        required=True,
        readonly=True,
    )
    sale_order_id = fields.Many2one(
        comodel_name="sale.order",
        string="Order",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )
    invoice_ids = fields.Many2many(
        comodel_name="account.move",
        relation="collection_link_invoice_rel",
        column1="link_id",
        column2="move_id",
        string="Invoices",
        readonly=True,
    )
    amount = fields.Monetary(required=True, readonly=True)
    expiry_date = fields.Date(string="Valid Until", required=True, readonly=True)
    links_version = fields.Integer(readonly=True)
    state = fields.Selection(
        selection=[
            ("sent", "Sent"),
            ("paid", "Paid"),
            ("expired", "Expired"),
            ("revoked", "Revoked"),
        ],
        default="sent",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    channel = fields.Selection(
        selection=[("email", "E-mail"), ("sms", "SMS"), ("copy", "Copied")],
        string="Sent By",
        readonly=True,
    )
    recipient = fields.Char(
        readonly=True, help="The e-mail address or mobile number it was sent to."
    )
    sent_date = fields.Datetime(readonly=True)
    transaction_ids = fields.One2many(
        comodel_name="payment.transaction",
        inverse_name="collection_link_id",
        string="Transactions",
        readonly=True,
    )
    transaction_id = fields.Many2one(
        comodel_name="payment.transaction",
        string="Paid By",
        readonly=True,
        help="The transaction that paid the link.",
    )
    payment_id = fields.Many2one(related="transaction_id.payment_id", string="Payment")
    paid_date = fields.Datetime(readonly=True)
    url = fields.Char(string="Link", readonly=True)
    short_url = fields.Char(compute="_compute_short_url")

    _sql_constraints = [
        ("key_unique", "UNIQUE(key)", "A payment link's key is unique."),
        (
            "amount_positive",
            "CHECK(amount > 0)",
            "A payment link's amount is positive.",
        ),
    ]

    @api.depends("purpose", "sale_order_id", "invoice_ids", "partner_id")
    def _compute_name(self):
        labels = dict(self._fields["purpose"]._description_selection(self.env))
        for link in self:
            document = (
                link.sale_order_id.name
                if link.purpose == "deposit"
                else ", ".join(link.invoice_ids.mapped("name"))
                if link.purpose == "settlement"
                else link.partner_id.display_name
            )
            link.name = f"{labels.get(link.purpose, '')} – {document or ''}"

    def _compute_short_url(self):
        for link in self:
            link.short_url = (
                f"{link.company_id.get_base_url()}/collection/l/{link.key}"
                if link.key
                else False
            )

    # ------------------------------------------------------------------
    # Signed parameters
    # ------------------------------------------------------------------

    @api.model
    def _collection_link_params(
        self,
        key,
        purpose,
        partner,
        company,
        currency,
        amount,
        expiry_date,
        order=None,
        invoices=None,
        links_version=None,
    ):
        """The query parameters of a payment link, signature included.

        Every value that decides what is paid, by whom and until when is
        signed: the key, purpose, customer, company, currency, amount (as the
        currency writes it), expiry date, customer's links version and the
        document."""
        params = {
            "purpose": purpose,
            "partner_id": partner.commercial_partner_id.id,
            "company_id": company.id,
            "currency_id": currency.id,
            "amount": float_repr(amount, currency.decimal_places),
            "expiry": fields.Date.to_string(expiry_date),
            "v": partner.commercial_partner_id.sudo().collection_links_version
            if links_version is None
            else links_version,
        }
        if purpose == "deposit":
            params["order_id"] = order.id
        elif purpose == "settlement":
            params["invoice_ids"] = ",".join(str(i) for i in sorted(invoices.ids))
        params["access_token"] = self._collection_sign(key, params)
        return params

    @api.model
    def _collection_sign(self, key, params):
        message = (key,) + tuple(
            (name, str(params[name]))
            for name in sorted(params)
            if name != "access_token"
        )
        return hmac(self.env(su=True), LINK_SIGNATURE_SCOPE, message)

    @api.model
    def _collection_build_url(self, key, params, base_url):
        return f"{base_url}/collection/pay/{key}?{urls.url_encode(params)}"

    @api.model
    def _collection_parse_params(self, key, params):
        """Check the signature of a link's parameters and return them typed.

        :return: a dict of the records and values, or None when the parameters
            were tampered with or are malformed (a 404 for the caller)
        """
        signature = params.get("access_token") or ""
        names = ("purpose", "partner_id", "company_id", "currency_id", "amount")
        names += ("expiry", "v")
        if (
            not key
            or not signature
            or any(params.get(name) is None or params.get(name) == "" for name in names)
        ):
            return None
        purpose = params["purpose"]
        signed = {name: str(params[name]) for name in names}
        if purpose == "deposit":
            signed["order_id"] = str(params.get("order_id") or "")
        elif purpose == "settlement":
            signed["invoice_ids"] = str(params.get("invoice_ids") or "")
        elif purpose != "wallet":
            return None
        if not consteq(self._collection_sign(key, signed), signature):
            return None
        try:
            env = self.env
            values = {
                "key": key,
                "purpose": purpose,
                "partner": env["res.partner"]
                .browse(int(signed["partner_id"]))
                .exists(),
                "company": env["res.company"]
                .browse(int(signed["company_id"]))
                .exists(),
                "currency": env["res.currency"]
                .browse(int(signed["currency_id"]))
                .exists(),
                "amount": float(signed["amount"]),
                "expiry_date": fields.Date.to_date(signed["expiry"]),
                "links_version": int(signed["v"]),
                "order": env["sale.order"],
                "invoices": env["account.move"],
                "access_token": signature,
            }
            if purpose == "deposit":
                values["order"] = (
                    env["sale.order"].browse(int(signed["order_id"])).exists()
                )
            elif purpose == "settlement":
                ids = [int(i) for i in signed["invoice_ids"].split(",")]
                values["invoices"] = env["account.move"].browse(ids).exists()
                if len(values["invoices"]) != len(ids):
                    return None
        except ValueError:
            return None
        if not (values["partner"] and values["company"] and values["currency"]):
            return None
        if purpose == "deposit" and not values["order"]:
            return None
        return values

    @api.model
    def _collection_get_or_create(self, values, channel="copy"):
        """The stored link of these checked parameters, stored now if it was
        only copied so far (two first openings at once store it once)."""
        link = self.sudo().search([("key", "=", values["key"])], limit=1)
        if link:
            return link
        create_values = self._collection_prepare_create_values(values, channel)
        self.env.cr.execute(
            SQL(
                "INSERT INTO collection_link (key, partner_id, company_id, "
                "currency_id, purpose, amount, expiry_date, links_version, state, "
                "channel, "
                "create_uid, write_uid, create_date, write_date) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'sent', %s, %s, %s, "
                "now() at time zone 'UTC', now() at time zone 'UTC') "
                "ON CONFLICT (key) DO NOTHING RETURNING id",
                values["key"],
                values["partner"].commercial_partner_id.id,
                values["company"].id,
                values["currency"].id,
                values["purpose"],
                values["amount"],
                values["expiry_date"],
                values["links_version"],
                channel,
                self.env.uid,
                self.env.uid,
            )
        )
        row = self.env.cr.fetchone()
        if not row:  # Stored meanwhile by another request.
            return self.sudo().search([("key", "=", values["key"])], limit=1)
        link = self.sudo().browse(row[0])
        link.write(
            {
                "sale_order_id": create_values["sale_order_id"],
                "invoice_ids": create_values["invoice_ids"],
                "url": create_values["url"],
                "access_token": create_values["access_token"],
            }
        )
        return link

    @api.model
    def _collection_prepare_create_values(self, values, channel):
        partner = values["partner"].commercial_partner_id
        params = self._collection_link_params(
            values["key"],
            values["purpose"],
            partner,
            values["company"],
            values["currency"],
            values["amount"],
            values["expiry_date"],
            order=values["order"],
            invoices=values["invoices"],
            links_version=values["links_version"],
        )
        return {
            "key": values["key"],
            "access_token": params["access_token"],
            "partner_id": partner.id,
            "company_id": values["company"].id,
            "currency_id": values["currency"].id,
            "purpose": values["purpose"],
            "sale_order_id": values["order"].id,
            "invoice_ids": [fields.Command.set(values["invoices"].ids)],
            "amount": values["amount"],
            "expiry_date": values["expiry_date"],
            "links_version": values["links_version"],
            "channel": channel,
            "url": self._collection_build_url(
                values["key"], params, values["company"].get_base_url()
            ),
        }

    def _collection_get_landing_route(self):
        """Where the customer lands after paying: the link itself, which then
        shows the confirmation (or that the payment is being processed)."""
        self.ensure_one()
        url = urls.url_parse(self.sudo().url or "")
        return f"{url.path}?{url.query}" if url.path else "/"

    def _collection_check_token(self, access_token):
        self.ensure_one()
        return bool(access_token) and consteq(
            self.sudo().access_token or "", access_token
        )

    # ------------------------------------------------------------------
    # Status and amount
    # ------------------------------------------------------------------

    def _collection_get_status(self):
        """What opening this link shows: ``payable``, ``paid``, ``processing``
        (a payment is under way), ``expired``, ``revoked``, ``cancelled`` (its
        order was cancelled) or ``nothing_due`` (its invoices were paid
        meanwhile, its order is fully paid).

        Records its expiry when it is noticed."""
        self.ensure_one()
        link = self.sudo()
        if link.state == "paid":
            return "paid"
        if link.state == "revoked" or (
            link.links_version != link.partner_id.collection_links_version
        ):
            return "revoked"
        if link.state == "expired" or link.expiry_date < fields.Date.context_today(
            link
        ):
            if link.state == "sent":
                link.state = "expired"
            return "expired"
        if link.transaction_ids.filtered(lambda tx: tx.state in LINK_PAYING_TX_STATES):
            return "processing"
        if link.purpose == "deposit" and link.sale_order_id.state == "cancel":
            return "cancelled"
        if link.currency_id.is_zero(link._collection_get_amount_due()):
            return "nothing_due"
        return "payable"

    def _collection_get_amount_due(self):
        """What the link can charge now, computed by the server: its amount, or
        less when part of it was paid meanwhile (a settlement's invoices paid by
        other means, an order paid by other means)."""
        self.ensure_one()
        link = self.sudo()
        if link.purpose == "settlement":
            due = sum(link._collection_get_open_invoices().mapped("amount_residual"))
            return min(link.amount, due)
        if link.purpose == "deposit":
            order = link.sale_order_id
            return max(min(link.amount, order.amount_total - order.amount_paid), 0.0)
        return link.amount

    def _collection_get_open_invoices(self):
        self.ensure_one()
        return self.sudo().invoice_ids.filtered(
            lambda move: move.state == "posted"
            and move.payment_state not in ("paid", "in_payment", "reversed")
            and not move.currency_id.is_zero(move.amount_residual)
        )

    def _collection_get_document(self):
        """The record the link's messages are logged on."""
        self.ensure_one()
        if self.purpose == "deposit":
            return self.sale_order_id
        return self.partner_id

    def _collection_get_mail_values(self):
        """The values the e-mail and SMS templates show."""
        self.ensure_one()
        link = self.sudo()
        env = link.with_context(lang=link.partner_id.lang).env
        amount = format_amount(env, link.amount, link.currency_id)
        if link.purpose == "deposit":
            what = env._(
                "a deposit on your order %(order)s", order=link.sale_order_id.name
            )
        elif link.purpose == "wallet":
            what = env._("a top-up of your wallet")
        else:
            what = env._(
                "the settlement of your invoices %(invoices)s",
                invoices=", ".join(link.invoice_ids.mapped("name")),
            )
        return {
            "company": link.company_id,
            "amount": amount,
            "what": what,
            "expiry": format_date(env, link.expiry_date),
            "url": link.url,
            "short_url": link.short_url,
            "invoices": link.invoice_ids,
            "order": link.sale_order_id,
        }

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _collection_send_email(self, email):
        """E-mail the link to ``email``, posted in the document's chatter (to
        the customer's contact having this address, or to the address alone)."""
        self.ensure_one()
        link = self.sudo()
        template = self.env.ref("account_payment_collection.mail_template_payment_link")
        lang = link.partner_id.lang
        rendered = {
            name: template.with_context(lang=lang)._render_field(
                name, link.ids, compute_lang=True
            )[link.id]
            for name in ("subject", "body_html")
        }
        document = link._collection_get_document().with_context(lang=lang)
        commercial = link.partner_id.commercial_partner_id
        recipients = (commercial | commercial.child_ids).filtered(
            lambda partner: partner.email_normalized == email
        )[:1]
        author_values = document._collection_get_author_values(link.company_id)
        if recipients:
            document.with_env(author_values.pop("env")).message_post(
                body=rendered["body_html"],
                subject=rendered["subject"],
                partner_ids=recipients.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                email_layout_xmlid=REMINDER_MAIL_LAYOUT,
                **author_values,
            )
        else:
            mail = (
                self.env["mail.mail"]
                .sudo()
                .create(
                    {
                        "subject": rendered["subject"],
                        "body_html": rendered["body_html"],
                        "email_to": email,
                        "email_from": author_values.get("email_from"),
                        "author_id": author_values.get("author_id"),
                        "model": document._name,
                        "res_id": document.id,
                        "auto_delete": True,
                    }
                )
            )
            document.sudo()._message_log(
                body=self.env._(
                    "Payment link for %(amount)s e-mailed to %(email)s: %(subject)s",
                    amount=format_amount(self.env, link.amount, link.currency_id),
                    email=email,
                    subject=rendered["subject"],
                )
            )
            _logger.info("payment link %s queued in mail %s", link.id, mail.id)

    def _collection_send_sms(self, number):
        """Text the link to ``number`` (its short URL), logged in the document's
        chatter."""
        self.ensure_one()
        link = self.sudo()
        template = self.env.ref("account_payment_collection.sms_template_payment_link")
        body = template._render_field("body", link.ids, compute_lang=True)[link.id]
        document = link._collection_get_document()
        document.sudo()._message_sms(
            body, sms_numbers=[number], partner_ids=False, put_in_queue=False
        )

    # ------------------------------------------------------------------
    # Payment
    # ------------------------------------------------------------------

    def _collection_lock(self):
        """Lock this link's row until the end of the transaction, marking it
        changed: two tabs or devices paying at once are served one after the
        other, and the second, its snapshot now outdated, fails to serialize and
        is replayed by Odoo - when it sees the first payment."""
        self.env.cr.execute(
            SQL(
                "UPDATE collection_link SET write_date = now() at time zone 'UTC' "
                "WHERE id IN %s",
                tuple(self.ids),
            )
        )

    def _collection_check_payable(self):
        """Raise a clear error unless the link can be paid now.

        :return: the amount to charge
        :raise ValidationError: paid, being paid, expired, revoked, cancelled, or
            nothing left to pay
        """
        self.ensure_one()
        env = self.env
        status = self._collection_get_status()
        messages = {
            "paid": env._("This payment link has already been paid."),
            "processing": env._(
                "A payment of this link is already being processed: it cannot be "
                "paid twice."
            ),
            "expired": env._("This payment link has expired."),
            "revoked": env._("This payment link is no longer valid."),
            "cancelled": env._("This order was cancelled: there is nothing to pay."),
            "nothing_due": env._("There is nothing left to pay with this link."),
        }
        if status != "payable":
            raise ValidationError(messages[status])
        return self._collection_get_amount_due()

    def _collection_get_transaction_values(self):
        """The documents a transaction paying this link is created for."""
        self.ensure_one()
        link = self.sudo()
        values = {"collection_link_id": link.id}
        if link.purpose == "deposit":
            values["sale_order_ids"] = [fields.Command.set(link.sale_order_id.ids)]
        elif link.purpose == "settlement":
            values["invoice_ids"] = [
                fields.Command.set(link._collection_get_open_invoices().ids)
            ]
        return values

    def _collection_get_reference_prefix(self):
        self.ensure_one()
        link = self.sudo()
        if link.purpose == "deposit":
            return link.sale_order_id.name
        if link.purpose == "settlement":
            return link.invoice_ids[:1].name
        return self.env._(
            "WALLET-%(customer)s", customer=link.partner_id.ref or link.partner_id.id
        )

    def _collection_on_paid(self, tx):
        """Record that ``tx`` paid this link, and tell the document. A second
        payment of the same link (two providers' pages open at once) is booked
        too - the money was received - and flagged to the accountant."""
        self.ensure_one()
        link = self.sudo()
        document = link._collection_get_document()
        amount = format_amount(link.env, tx.amount, tx.currency_id)
        if link.state == "paid" and link.transaction_id == tx:
            return
        if link.state == "paid":
            link.partner_id._collection_schedule_activity(
                link.env._("Payment link paid twice"),
                link.env._(
                    "The payment link %(link)s was paid a second time (%(amount)s, "
                    "transaction %(reference)s): both payments are booked; refund "
                    "one if the customer asks.",
                    link=link.name,
                    amount=amount,
                    reference=tx.reference,
                ),
                record=document,
            )
            return
        link.write(
            {
                "state": "paid",
                "transaction_id": tx.id,
                "paid_date": fields.Datetime.now(),
            }
        )
        document._message_log(
            body=link.env._(
                "Payment link paid: %(amount)s (%(what)s), transaction %(reference)s.",
                amount=amount,
                what=dict(link._fields["purpose"]._description_selection(link.env))[
                    link.purpose
                ],
                reference=tx.reference,
            )
        )
        _logger.info("payment link %s paid by transaction %s", link.id, tx.id)

    # ------------------------------------------------------------------
    # Revocation and expiry
    # ------------------------------------------------------------------

    def action_collection_revoke(self):
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only accountants can revoke payment links."))
        self.sudo().filtered(lambda link: link.state == "sent").state = "revoked"
        return True

    @api.model
    def _cron_collection_expire_links(self):
        """Mark the links past their validity as expired."""
        links = self.sudo().search(
            [
                ("state", "=", "sent"),
                ("expiry_date", "<", fields.Date.context_today(self)),
            ]
        )
        links.state = "expired"
        return len(links)
