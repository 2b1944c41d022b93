# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import re
from datetime import timedelta, timezone

from markupsafe import Markup
from werkzeug.urls import url_encode

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, consteq, format_date
from odoo.tools.misc import format_amount, hmac

from ..const import (
    COLLECTION_PARTNER_FIELDS,
    COLLECTION_SUMMARY_OPERATORS,
    COLLECTION_UNSENT_STATES,
)

_logger = logging.getLogger(__name__)

# Odoo's notification layout, as invoice e-mails, with the company's footer and
# without the header that would present the customer as "Your Contact".
REMINDER_MAIL_LAYOUT = "account_payment_collection.collection_reminder_mail_layout"


def _sql_like_regex(pattern):
    """Return the regular expression matching what the SQL ``LIKE`` pattern
    ``pattern`` matches (``%``, ``_`` and the ``\\`` escape)."""
    parts = []
    escaped = False
    for char in pattern:
        if escaped or char not in "%_\\":
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append(".*" if char == "%" else ".")
    return re.compile("".join(parts), re.DOTALL)


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_mode = fields.Selection(
        selection="_selection_collection_mode",
        company_dependent=True,
        tracking=True,
        help="Offline: the customer pays by cheque, transfer, cash or money order; "
        "invoices are sent with payment instructions and never debited.\n"
        "Automatic: invoices are debited on their due date from the customer's "
        "saved card or SEPA mandate.",
    )
    collection_token_id = fields.Many2one(
        comodel_name="payment.token",
        string="Saved Card or Mandate",
        company_dependent=True,
        tracking=True,
        domain="[('partner_id', 'child_of', commercial_partner_id),"
        " ('provider_id.state', '!=', 'disabled')]",
        help="The saved card or SEPA mandate debited for this customer's invoices.",
    )
    # Core field, tracked so that every change of how a customer pays is traced.
    property_inbound_payment_method_line_id = fields.Many2one(tracking=True)
    collection_offline_payment_type = fields.Selection(
        related="property_inbound_payment_method_line_id.offline_payment_type",
        string="Offline Payment Type",
    )
    collection_summary = fields.Char(
        string="Pays By",
        compute="_compute_collection_summary",
        search="_search_collection_summary",
    )
    collection_can_edit = fields.Boolean(compute="_compute_collection_can_edit")

    collection_registration_pending = fields.Boolean(
        string="Registration Pending",
        compute="_compute_collection_registration_pending",
        help="The customer pays automatically but has not saved a usable card or "
        "mandate yet: until they do, they keep paying as before and nothing is "
        "debited.",
    )
    collection_registration_url = fields.Char(
        string="Registration Link",
        compute="_compute_collection_registration_url",
        help="The link the customer opens to save a card or a SEPA mandate: "
        "public, signed, valid for the days set in the Invoicing settings.",
    )
    collection_registration_expiry = fields.Datetime(
        string="Registration Link Valid Until",
        company_dependent=True,
        readonly=True,
        copy=False,
    )
    collection_links_version = fields.Integer(
        readonly=True,
        copy=False,
        help="Part of the signature of every link sent to this customer: "
        "revoking the links increases it, so that the links already sent stop "
        "working.",
    )
    collection_registration_failures = fields.Integer(
        string="Failed Registrations",
        readonly=True,
        copy=False,
        help="Consecutive failed attempts to save a card or a mandate.",
    )
    collection_greylisted = fields.Boolean(
        string="Grey-listed",
        readonly=True,
        copy=False,
        tracking=True,
        help="Too many consecutive failed attempts to save a card or a mandate: "
        "the registration link is closed until an accountant removes the customer "
        "from the grey list.",
    )
    collection_registration_ids = fields.One2many(
        comodel_name="collection.registration",
        inverse_name="partner_id",
        string="Registrations",
        readonly=True,
    )
    collection_registration_count = fields.Integer(
        compute="_compute_collection_registration_count",
        groups="account.group_account_invoice,account.group_account_readonly",
    )

    collection_reminder_excluded = fields.Boolean(
        string="Excluded from Reminders",
        tracking=True,
        help="No payment reminder is sent to this customer, whatever their overdue "
        "invoices. Contacts follow their company.",
    )

    @api.depends_context("company", "lang")
    @api.depends(*COLLECTION_PARTNER_FIELDS)
    def _compute_collection_summary(self):
        for partner in self:
            partner.collection_summary = self._collection_get_summary(
                partner.collection_mode,
                partner.property_inbound_payment_method_line_id,
                partner.collection_token_id,
            )

    def _search_collection_summary(self, operator, value):
        """Search the "Pays By" label as if it were a stored Char. In the current
        company the label takes one value per offline method and per token that
        customers pay with: each of them is matched in Python, and the matches are
        turned back into a domain on the fields the label is made of."""
        if operator not in COLLECTION_SUMMARY_OPERATORS:
            raise UserError(
                self.env._(
                    "The Pays By column cannot be searched with the operator "
                    "%(operator)s.",
                    operator=operator,
                )
            )
        # Every value stored in this company, whoever may read the partners: the
        # domain returned is then applied with the user's rights.
        Partner = self.sudo().with_context(active_test=False)
        domains = []
        for mode, fname, kwarg in (
            ("offline", "property_inbound_payment_method_line_id", "method_line"),
            ("automatic", "collection_token_id", "token"),
        ):
            matching_ids = [
                record.id
                for [record] in Partner._read_group(
                    [("collection_mode", "=", mode)], [fname]
                )
                if self._collection_summary_matches(
                    self._collection_get_summary(mode, **{kwarg: record}),
                    operator,
                    value,
                )
            ]
            if matching_ids:
                domains.append(
                    [("collection_mode", "=", mode), (fname, "in", matching_ids)]
                )
        if self._collection_summary_matches(False, operator, value):
            domains.append([("collection_mode", "not in", ("offline", "automatic"))])
        return expression.OR(domains)

    @api.model
    def _collection_get_summary(self, mode, method_line=None, token=None):
        """Return the "Pays By" label of a customer paying with ``mode``, in the
        language of the environment.

        :param str mode: the customer's ``collection_mode``
        :param method_line: the customer's ``account.payment.method.line``
        :param token: the customer's collection ``payment.token``
        :return: the label, or ``False`` when the customer pays in no set way
        """
        if mode == "automatic":
            return self.env._(
                "Automatic: %(token)s",
                token=token.sudo().display_name
                if token
                else self.env._("registration pending"),
            )
        if mode == "offline":
            return self.env._(
                "Offline: %(method)s",
                method=method_line.name if method_line else "",
            )
        return False

    @api.model
    def _collection_summary_matches(self, label, operator, value):
        """Return whether ``label`` satisfies ``(operator, value)`` as PostgreSQL
        would on a stored Char column, in the SQL Odoo generates for it: ``!=``,
        ``not like``, ``not ilike`` and ``not in`` a list without ``False`` match an
        empty label too, the ``like`` operators follow SQL wildcards, ``ilike``
        ignores case and accents.

        :param label: a label of `_collection_get_summary`, or ``False``
        """
        negative = operator in expression.NEGATIVE_TERM_OPERATORS
        if operator == "=?":
            if value is False or value is None:
                return True
            operator = "="
        if operator in ("in", "not in"):
            values = value if isinstance(value, list | tuple | set) else [value]
            if label:
                found = label in {str(v) for v in values if v not in (False, None)}
            else:
                found = any(v in (False, None, "") for v in values)
            return found != negative
        if operator in ("=", "!=") and not value:
            return bool(label) == negative
        if operator in expression.WILDCARD_OPERATORS and not value:
            return not negative
        if not label:
            # NULL matches no comparison: Odoo adds "OR IS NULL" where it should.
            return bool(value) == negative
        if operator in ("=", "!="):
            return (label == str(value)) != negative
        pattern = "" if value is None or value is False else str(value)
        if operator in expression.WILDCARD_OPERATORS:
            pattern = f"%{pattern}%"
        if operator.endswith("ilike"):
            unaccent = self.env.registry.unaccent_python
            label, pattern = unaccent(label.lower()), unaccent(pattern.lower())
        return bool(_sql_like_regex(pattern).fullmatch(label)) != negative

    @api.depends_context("company")
    @api.depends("collection_mode", "collection_token_id")
    def _compute_collection_registration_pending(self):
        for partner in self:
            partner.collection_registration_pending = (
                partner.collection_mode == "automatic"
                and not partner._collection_get_debit_token()
            )

    @api.depends_context("company")
    @api.depends("collection_links_version", "collection_registration_expiry")
    def _compute_collection_registration_url(self):
        now = fields.Datetime.now()
        for partner in self:
            commercial = partner.commercial_partner_id
            if not commercial.id:
                partner.collection_registration_url = False
                continue
            expiry = commercial.collection_registration_expiry
            if not expiry or expiry <= now:
                expiry = commercial._collection_get_new_registration_expiry()
            partner.collection_registration_url = (
                commercial._collection_build_registration_url(expiry)
            )

    def _compute_collection_registration_count(self):
        counts = dict(
            self.env["collection.registration"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.collection_registration_count = counts.get(
                partner.commercial_partner_id, 0
            )

    @api.depends_context("uid")
    def _compute_collection_can_edit(self):
        self.collection_can_edit = self.env.user.has_group(
            "account.group_account_invoice"
        )

    @api.model
    def _selection_collection_mode(self):
        return [
            ("offline", self.env._("Offline")),
            ("automatic", self.env._("Automatic")),
        ]

    @api.constrains(*COLLECTION_PARTNER_FIELDS)
    def _check_collection_settings(self):
        for partner in self:
            method_line = partner.property_inbound_payment_method_line_id
            if method_line and method_line.company_id != self.env.company:
                raise ValidationError(
                    self.env._(
                        "The payment method %(method)s belongs to another company "
                        "than %(company)s.",
                        method=method_line.display_name,
                        company=self.env.company.name,
                    )
                )
            if (
                partner.collection_mode == "offline"
                and not method_line.offline_payment_type
            ):
                raise ValidationError(
                    self.env._(
                        "%(partner)s pays offline: choose how in the Payment Method "
                        "field (cheque, bank transfer, cash, money order or another "
                        "offline method).",
                        partner=partner.display_name,
                    )
                )
            if partner.collection_mode == "automatic":
                partner._collection_check_token()

    def _collection_get_debit_token(self):
        """The token to debit this customer with in the current company, sudo,
        or an empty recordset when they do not pay automatically or their token
        cannot be used any more."""
        self.ensure_one()
        token = self.collection_token_id.sudo()
        if (
            self.collection_mode != "automatic"
            or not token.active
            or token.provider_id.state == "disabled"
        ):
            return self.env["payment.token"].sudo()
        return token

    def _collection_check_token(self):
        """Raise unless the partner's saved card or mandate, when one is chosen,
        can be debited in the current company (without one, the registration is
        pending: nothing is debited until the customer saves one)."""
        self.ensure_one()
        token = self.collection_token_id.sudo()
        if not token:
            return
        problem = False
        if not token.active:
            problem = self.env._("it is archived")
        elif token.partner_id.commercial_partner_id != self.commercial_partner_id:
            problem = self.env._("it belongs to another customer")
        elif token.provider_id.state == "disabled":
            problem = self.env._(
                "its payment provider %(provider)s is disabled",
                provider=token.provider_id.name,
            )
        elif token.provider_id.company_id != self.env.company:
            problem = self.env._("its payment provider belongs to another company")
        if problem:
            raise ValidationError(
                self.env._(
                    "The payment token %(token)s cannot be used to collect from "
                    "%(partner)s: %(problem)s.",
                    token=token.display_name,
                    partner=self.display_name,
                    problem=problem,
                )
            )

    @api.model
    def _commercial_fields(self):
        """Override of `account` so that contacts pay like their company and are
        excluded from reminders like it."""
        return super()._commercial_fields() + [
            *COLLECTION_PARTNER_FIELDS,
            "collection_reminder_excluded",
        ]

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and not self.env.user.has_group(
            "account.group_account_invoice"
        ):
            for vals in vals_list:
                if any(
                    vals.get(fname)
                    for fname in ("collection_mode", "collection_token_id")
                ):
                    raise AccessError(
                        self.env._("Only accountants can set how a customer pays.")
                    )
        return super().create(vals_list)

    def write(self, vals):
        fnames = set(COLLECTION_PARTNER_FIELDS) & vals.keys()
        if not fnames:
            return super().write(vals)
        self._collection_check_write(fnames, vals)
        was_automatic = self.filtered(
            lambda p: p.collection_mode == "automatic" and p == p.commercial_partner_id
        )
        res = super().write(vals)
        was_automatic.filtered(
            lambda p: p.collection_mode != "automatic"
        )._collection_stop_automatic()
        if "property_inbound_payment_method_line_id" in fnames:
            self.filtered(
                lambda p: p == p.commercial_partner_id
            )._collection_update_open_invoices()
        return res

    def _collection_check_write(self, fnames, vals):
        """Accountants set how a customer pays, on the customer itself; contacts
        only ever receive their commercial partner's values."""
        if self.env.su:
            return
        is_accountant = self.env.user.has_group("account.group_account_invoice")
        for partner in self:
            commercial = partner.commercial_partner_id
            if partner != commercial:
                if all(commercial._collection_has_value(f, vals[f]) for f in fnames):
                    continue  # synchronisation from the commercial partner
                raise ValidationError(
                    self.env._(
                        "%(contact)s pays like %(company)s: set how they pay on "
                        "%(company)s.",
                        contact=partner.display_name,
                        company=commercial.display_name,
                    )
                )
            if not is_accountant:
                raise AccessError(
                    self.env._("Only accountants can set how a customer pays.")
                )

    def _collection_has_value(self, fname, value):
        self.ensure_one()
        current = self[fname]
        if isinstance(current, models.BaseModel):
            current = current.id
        if isinstance(value, models.BaseModel):
            value = value.id
        return (current or False) == (value or False)

    def _collection_stop_automatic(self, move_message=None):
        """Stop, in the current company, every automatic debit of these customers
        that has not been sent to a payment provider yet, and say so.

        :param str move_message: what the invoices' chatter says, by default
            that the customer now pays offline
        """
        moves = self.env["account.move"].search(
            [
                ("commercial_partner_id", "in", self.ids),
                ("company_id", "=", self.env.company.id),
                ("collection_state", "in", COLLECTION_UNSENT_STATES),
            ]
        )
        moves.collection_state = "stopped"
        moves._message_log_batch(
            bodies=dict.fromkeys(
                moves.ids,
                move_message
                or self.env._(
                    "Automatic debit cancelled: the customer now pays offline."
                ),
            )
        )
        moves_by_partner = moves.grouped("commercial_partner_id")
        for partner in self:
            partner_moves = moves_by_partner.get(partner, moves.browse())
            if partner_moves:
                body = self.env._(
                    "Automatic collection stopped: %(count)s debit(s) not sent yet "
                    "were cancelled (%(invoices)s).",
                    count=len(partner_moves),
                    invoices=", ".join(sorted(partner_moves.mapped("name"))),
                )
            else:
                body = self.env._(
                    "Automatic collection stopped: no debit was waiting to be sent."
                )
            partner._message_log(body=Markup("<p>%s</p>") % body)

    def _collection_update_open_invoices(self):
        """Carry the new preferred payment method over to the unpaid invoices of
        these customers in the current company."""
        Move = self.env["account.move"]
        moves = Move.search(
            expression.AND(
                [
                    [
                        ("commercial_partner_id", "in", self.ids),
                        ("company_id", "=", self.env.company.id),
                    ],
                    expression.OR(
                        [
                            [
                                ("move_type", "=", "out_invoice"),
                                ("state", "=", "draft"),
                            ],
                            Move._collection_get_open_domain(),
                        ]
                    ),
                ]
            )
        )
        for partner, partner_moves in moves.grouped("commercial_partner_id").items():
            partner_moves.preferred_payment_method_line_id = (
                partner.property_inbound_payment_method_line_id
            )

    # ------------------------------------------------------------------
    # Registration of a card or mandate, links
    # ------------------------------------------------------------------

    def _collection_get_new_registration_expiry(self):
        """The end of validity of a registration link sent now, to the hour."""
        days = self.env.company.collection_registration_link_days or 14
        now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        return now + timedelta(days=days, hours=1)

    def _collection_get_registration_signature(self, expires):
        """The signature of this customer's registration link valid until the
        timestamp ``expires``: it changes when the links are revoked."""
        self.ensure_one()
        return hmac(
            self.env(su=True),
            "account_payment_collection-registration",
            (
                self.id,
                self.env.company.id,
                int(expires),
                self.sudo().collection_links_version,
            ),
        )

    def _collection_build_registration_url(self, expiry):
        self.ensure_one()
        expires = int(expiry.replace(tzinfo=timezone.utc).timestamp())
        query = url_encode(
            {
                "company": self.env.company.id,
                "expires": expires,
                "signature": self._collection_get_registration_signature(expires),
            }
        )
        return f"{self.get_base_url()}/collection/register/{self.id}?{query}"

    def _collection_check_registration_link(self, expires, signature):
        """Whether ``expires`` and ``signature``, from a registration link, are
        those of a link sent to this customer for the current company and not
        revoked, and whether that link is still valid.

        :return: ``"valid"``, ``"expired"`` or ``"invalid"``
        """
        self.ensure_one()
        if (
            not isinstance(expires, str)
            or not isinstance(signature, str)
            or not expires.isascii()
            or not expires.isdigit()
            or len(expires) > 12
            or len(signature) > 128
            or self != self.commercial_partner_id
        ):
            return "invalid"
        expected = self._collection_get_registration_signature(int(expires))
        if not consteq(expected, signature):
            return "invalid"
        if int(expires) < fields.Datetime.now().timestamp():
            return "expired"
        return "valid"

    def _collection_get_registration_providers(self):
        """The providers of the current company a customer can save a card or a
        mandate with, and the methods each offers, in the order shown.

        :return: list of (provider, [method codes])
        """
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("state", "in", ("enabled", "test")),
                    ("company_id", "=", self.env.company.id),
                ],
                order="sequence, id",
            )
        )
        offer = []
        for provider in providers:
            codes = provider._collection_get_registration_method_codes()
            if codes:
                offer.append((provider, codes))
        return offer

    def _collection_get_registration_mail_values(self):
        """What the registration e-mail and SMS say: the company, the link, its
        end of validity and the methods offered."""
        self.ensure_one()
        partner = self.commercial_partner_id
        offer = partner._collection_get_registration_providers()
        codes = {code for _provider, provider_codes in offer for code in provider_codes}
        if codes >= {"card", "sepa_direct_debit"}:
            methods = self.env._("a card or a SEPA direct debit mandate")
        elif "card" in codes:
            methods = self.env._("a card")
        else:
            methods = self.env._("a SEPA direct debit mandate")
        expiry = partner.collection_registration_expiry
        if not expiry or expiry <= fields.Datetime.now():
            expiry = partner._collection_get_new_registration_expiry()
        return {
            "company": self.env.company,
            "url": partner.collection_registration_url,
            "expiry": format_date(self.env, expiry.date()),
            "methods": methods,
        }

    def action_collection_send_registration_link(self, channel=None):
        """Send the customer a new link to save a card or a SEPA mandate, by
        e-mail (the default) or SMS.

        :param str channel: ``"email"`` or ``"sms"``; by default the context's
            ``collection_channel``, else e-mail
        :raise UserError: no address or number to send it to, no provider
            offering a registration, or the customer is grey-listed
        """
        channel = channel or self.env.context.get("collection_channel") or "email"
        if channel not in ("email", "sms"):
            raise UserError(self.env._("Send the link by e-mail or by SMS."))
        for partner in self:
            partner._collection_send_registration_link(channel)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("Registration link sent."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _collection_send_registration_link(self, channel):
        self.ensure_one()
        partner = self.commercial_partner_id
        if not self.env.su and not self.env.user.has_group(
            "account.group_account_invoice"
        ):
            raise AccessError(
                self.env._("Only accountants can send registration links.")
            )
        if partner.collection_greylisted:
            raise UserError(
                self.env._(
                    "%(partner)s is on the grey list after %(count)s failed attempts "
                    "to save a card or a mandate: remove them from the grey list "
                    "first.",
                    partner=partner.display_name,
                    count=partner.collection_registration_failures,
                )
            )
        if not partner._collection_get_registration_providers():
            raise UserError(
                self.env._(
                    "No payment provider of %(company)s can save a card or a SEPA "
                    "mandate: enable Stripe or GoCardless in Invoicing > "
                    "Configuration > Payment Providers first.",
                    company=self.env.company.name,
                )
            )
        recipient = self if self.email else partner
        if channel == "email" and not recipient.email:
            raise UserError(
                self.env._(
                    "%(partner)s has no e-mail address: add one, or send the link "
                    "by SMS.",
                    partner=partner.display_name,
                )
            )
        number = self.mobile or self.phone or partner.mobile or partner.phone
        if channel == "sms" and not number:
            raise UserError(
                self.env._(
                    "%(partner)s has no mobile number: add one, or send the link by "
                    "e-mail.",
                    partner=partner.display_name,
                )
            )
        partner.sudo().collection_registration_expiry = (
            partner._collection_get_new_registration_expiry()
        )
        partner.invalidate_recordset(["collection_registration_url"])
        if channel == "email":
            partner._collection_post_with_author(
                self.env.company,
                self.env.ref(
                    "account_payment_collection.mail_template_registration_link"
                ).with_env(partner.env),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=recipient.ids,
                email_layout_xmlid=REMINDER_MAIL_LAYOUT,
            )
        else:
            partner._message_sms_with_template(
                template=self.env.ref(
                    "account_payment_collection.sms_template_registration_link"
                ).with_env(partner.env),
                partner_ids=(self if (self.mobile or self.phone) else partner).ids,
                put_in_queue=False,
            )
        _logger.info("registration link sent to partner %s by %s", partner.id, channel)

    def action_collection_revoke_links(self):
        """Make every link already sent to these customers stop working: the
        registration links, the payment plans' links and the invoices' access
        links (new links work)."""
        partners = self.commercial_partner_id
        if not self.env.su and not self.env.user.has_group(
            "account.group_account_invoice"
        ):
            raise AccessError(self.env._("Only accountants can revoke links."))
        for partner in partners.sudo():
            partner.collection_links_version += 1
            partner.collection_registration_expiry = False
        plans = self.env["collection.plan"].search([("partner_id", "in", partners.ids)])
        if plans:
            plans.action_collection_revoke_links()
        moves = self.env["account.move"].search(
            [
                ("commercial_partner_id", "in", partners.ids),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("access_token", "!=", False),
            ]
        )
        moves.sudo().access_token = False
        self.env["collection.link"].sudo().search(
            [("partner_id", "in", partners.ids), ("state", "=", "sent")]
        ).state = "revoked"
        for partner in partners:
            partner._message_log(
                body=self.env._(
                    "Links revoked: the registration, payment, payment plan and "
                    "invoice links already sent no longer work."
                )
            )
        return True

    # ------------------------------------------------------------------
    # Payment links: wallet top-ups and settlements
    # ------------------------------------------------------------------

    def _get_default_payment_link_values(self):
        """What Odoo's payment link wizard opened on a customer starts with: a
        wallet top-up to type, or the settlement of the invoices in the
        context's ``default_collection_invoice_ids``."""
        self.ensure_one()
        invoice_ids = self.env.context.get("default_collection_invoice_ids") or []
        if invoice_ids and isinstance(invoice_ids[0], list | tuple):
            invoice_ids = invoice_ids[0][2]  # [Command.set(ids)]
        invoices = self.env["account.move"].browse(invoice_ids)
        residual = sum(invoices.mapped("amount_residual"))
        return {
            "currency_id": (
                invoices[:1].currency_id or self.env.company.currency_id
            ).id,
            "partner_id": self.commercial_partner_id.id,
            "amount": residual,
            "amount_max": residual,
        }

    def _collection_link_wizard_action(self, name, purpose, invoices=None):
        self.ensure_one()
        context = {
            "active_model": "res.partner",
            "active_id": self.commercial_partner_id.id,
            "default_collection_link_purpose": purpose,
        }
        if invoices is not None:
            context["default_collection_invoice_ids"] = invoices.ids
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "payment.link.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": context,
        }

    def action_collection_top_up_wallet(self):
        """Send the customer a link to top up their wallet."""
        return self._collection_link_wizard_action(
            self.env._("Top Up Wallet"), "wallet"
        )

    def action_collection_settle_invoices(self):
        """Send the customer one link settling their open invoices (all of
        them at first; the accountant keeps the ones to settle)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        invoices = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", self.env.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("collection_block_reason", "=", False),
                ("currency_id", "=", self.env.company.currency_id.id),
            ],
            order="invoice_date_due, id",
        )
        if not invoices:
            raise UserError(
                self.env._(
                    "%(partner)s has no open invoice to settle.",
                    partner=partner.display_name,
                )
            )
        return self._collection_link_wizard_action(
            self.env._("Settle Invoices"), "settlement", invoices
        )

    def action_collection_view_payment_links(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_collection.collection_link_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action

    def action_collection_remove_greylist(self):
        """Reopen the registration link of grey-listed customers."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(
                self.env._("Only accountants can remove a customer from the grey list.")
            )
        partners = self.commercial_partner_id.filtered("collection_greylisted")
        partners.sudo().write(
            {"collection_greylisted": False, "collection_registration_failures": 0}
        )
        for partner in partners:
            partner._message_log(
                body=self.env._(
                    "Removed from the grey list: the registration link works again."
                )
            )
        return True

    def action_view_collection_registrations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_collection.collection_registration_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"create": False}
        return action

    def _collection_count_registration_failure(self, registration):
        """One more consecutive failed registration: at the company's threshold,
        grey-list the customer and say so."""
        self.ensure_one()
        partner = self.commercial_partner_id.sudo()
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET collection_registration_failures ="
                " COALESCE(collection_registration_failures, 0) + 1"
                " WHERE id = %s RETURNING collection_registration_failures",
                partner.id,
            )
        )
        failures = self.env.cr.fetchone()[0]
        partner.invalidate_recordset(["collection_registration_failures"])
        threshold = registration.company_id.collection_greylist_threshold or 3
        if failures >= threshold and not partner.collection_greylisted:
            partner.collection_greylisted = True
            body = self.env._(
                "Grey-listed after %(count)s consecutive failed attempts to save a "
                "card or a mandate (last: %(reason)s): the registration link is "
                "closed until you remove the customer from the grey list.",
                count=failures,
                reason=registration.state_message or registration.provider_id.name,
            )
            partner._message_log(body=Markup("<p>%s</p>") % body)
            _logger.info("partner %s grey-listed", partner.id)

    def _collection_start_automatic(self, token, registration):
        """The customer saved ``token`` from their registration link: collect
        from it (tracked), and tell the accountant.

        Their open invoices not due yet are scheduled for debit; overdue ones
        stay in the reminder process (the customer did not agree to be debited
        for the past without notice).
        """
        self.ensure_one()
        partner = self.commercial_partner_id.sudo().with_company(
            registration.company_id
        )
        partner.write(
            {
                "collection_mode": "automatic",
                "collection_token_id": token.id,
                "collection_registration_failures": 0,
                "collection_registration_expiry": False,
            }
        )
        Move = self.env["account.move"].sudo()
        today = fields.Date.context_today(self)
        moves = Move.search(
            [
                *Move._collection_get_open_domain(),
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", registration.company_id.id),
                ("collection_state", "in", (False, "stopped")),
                ("collection_block_reason", "=", False),
                ("invoice_date_due", ">=", today),
            ]
        )
        moves.collection_state = "scheduled"
        body = self.env._(
            "%(token)s saved by the customer from their registration link "
            "(%(provider)s): invoices are now debited on their due date.",
            token=token.display_name,
            provider=registration.provider_id.name,
        )
        if moves:
            body += " " + self.env._(
                "Scheduled: %(invoices)s.",
                invoices=", ".join(sorted(moves.mapped("name"))),
            )
        partner._message_log(body=Markup("<p>%s</p>") % body)
        partner._collection_schedule_activity(
            self.env._("Card or mandate saved by the customer"), body
        )

    def _collection_get_responsible(self, company=None):
        """Who is told about this customer's collection: their salesperson when
        a real internal user of the company, else the company's reviewer."""
        self.ensure_one()
        company = company or self.env.company
        salesperson = self.commercial_partner_id.user_id
        if company._collection_is_real_user(salesperson) and (
            company in salesperson.company_ids
        ):
            return salesperson
        return company._collection_plan_reviewer()

    def _collection_schedule_activity(self, summary, note, record=None):
        """Give the customer's responsible a to-do about ``record`` (this
        customer by default)."""
        self.ensure_one()
        record = record or self.commercial_partner_id
        responsible = self._collection_get_responsible(record.company_id or None)
        if not responsible:
            return
        record.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=responsible.id,
        )

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _collection_send_reminder(self, moves, levels_by_move):
        """Send this customer one payment reminder listing ``moves`` at the
        highest of the levels due, and record each invoice's level as sent in the
        log (which gives the invoices their last level), in the current
        transaction. The e-mail is posted on the customer and queued: the mail
        queue sends it after the commit.

        :param moves: the customer's overdue ``account.move`` listed in the e-mail
        :param dict levels_by_move: ``{account.move: collection.reminder.level}``,
                                    the invoices whose next level is due
        :return: the e-mail's ``mail.message``, or ``False`` when the customer has
                 no e-mail address (nothing is recorded then)
        :raise: ``psycopg2.IntegrityError`` (at flush) if a level was already sent
        """
        self.ensure_one()
        recipients = self._collection_get_reminder_recipients(moves)
        if not recipients:
            _logger.info("partner %s has no e-mail address: not reminded", self.id)
            return False
        level = self._collection_get_reminder_level(moves, levels_by_move)
        moves._collection_ensure_access_token()
        partner = self.with_context(
            collection_reminder_move_ids=moves.ids, mail_notify_force_send=False
        )
        # The templates render in this context, which says what to list.
        message = partner._collection_post_with_author(
            self.env.company,
            level.mail_template_id.with_env(partner.env),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=recipients.ids,
            email_layout_xmlid=REMINDER_MAIL_LAYOUT,
        )
        if level.send_sms and level.sms_template_id and (self.mobile or self.phone):
            partner._message_sms_with_template(
                template=level.sms_template_id.with_env(partner.env),
                put_in_queue=True,
            )
        today = fields.Date.context_today(self)
        self.env["collection.reminder.log"].sudo().create(
            [
                {
                    "move_id": move.id,
                    "level_id": move_level.id,
                    "partner_id": self.id,
                    "date": today,
                    "company_id": move.company_id.id,
                    "mail_message_id": message[:1].id,
                }
                for move, move_level in levels_by_move.items()
            ]
        )
        Move = self.env["account.move"]
        reminded = Move.union(*levels_by_move)
        reminded._message_log_batch(
            bodies={
                move.id: self.env._(
                    "Payment reminder sent to %(partner)s: %(level)s.",
                    partner=self.display_name,
                    level=levels_by_move[move].name,
                )
                for move in reminded
            }
        )
        return message

    def _collection_get_reminder_recipients(self, moves):
        """Return who receives this customer's reminder listing ``moves``: the
        invoices' contacts that have an e-mail address, else the customer."""
        self.ensure_one()
        return moves.partner_id.filtered("email") or self.filtered("email")

    def _collection_get_reminder_level(self, moves, levels_by_move):
        """Return the level whose template this customer's reminder uses: the
        highest of the levels due on the invoices and of the levels already sent
        for the listed invoices (``moves``, still overdue), so that the tone
        never goes down: a new invoice's courteous reminder does not follow the
        final notice of an older one.

        :param moves: the customer's overdue ``account.move`` listed
        :param dict levels_by_move: ``{account.move: collection.reminder.level}``
        :rtype: collection.reminder.level
        """
        self.ensure_one()
        return max(
            [*levels_by_move.values(), *moves.collection_reminder_level_id],
            key=lambda level: (level.days_after_due, level.id),
        )

    # ------------------------------------------------------------------
    # Rendering (used by the reminder templates, rendered on the customer)
    # ------------------------------------------------------------------

    def _collection_get_reminder_moves(self):
        """Return the invoices listed in the reminder being rendered: those given
        by the sending in the context, else (template preview) the customer's
        overdue invoices in the current company."""
        self.ensure_one()
        Move = self.env["account.move"]
        move_ids = self.env.context.get("collection_reminder_move_ids")
        if move_ids is not None:
            return Move.browse(move_ids)
        return Move.search(
            Move._collection_get_reminder_domain(self.env.company)
            + [("commercial_partner_id", "=", self.commercial_partner_id.id)],
            order="invoice_date_due, id",
        )

    def _collection_get_reminder_company(self):
        self.ensure_one()
        return self._collection_get_reminder_moves().company_id[:1] or self.env.company

    def _collection_get_reminder_total(self):
        """Return the amount due on the listed invoices, formatted, per currency."""
        self.ensure_one()
        moves = self._collection_get_reminder_moves()
        return " + ".join(
            format_amount(
                self.env, sum(currency_moves.mapped("amount_residual")), currency
            )
            for currency, currency_moves in moves.grouped("currency_id").items()
        )

    def _collection_get_reminder_payable_moves(self):
        """Return the listed invoices that the reminder offers to pay online (see
        ``account.move._collection_get_reminder_payable_moves``)."""
        self.ensure_one()
        moves = self._collection_get_reminder_moves()
        return moves._collection_get_reminder_payable_moves()

    def _collection_get_reminder_payment_instructions(self):
        """Return how to pay the listed invoices offline, from their payment
        instructions (``account.move._collection_get_payment_instructions``): one
        block per payment method, in which a value that differs from one invoice
        to the next (the reference to write on the cheque or the transfer) lists
        those of all the invoices.

        :return: ``[{'title': str, 'lines': [(label, value)], 'note': str}]``,
                 empty when the customer does not pay offline
        :rtype: list
        """
        self.ensure_one()
        blocks = {}
        for move in self._collection_get_reminder_moves():
            instructions = move._collection_get_payment_instructions()
            if not instructions:
                continue
            key = (
                instructions["title"],
                instructions["note"],
                tuple(label for label, _value in instructions["lines"]),
            )
            block = blocks.setdefault(
                key,
                {
                    "title": instructions["title"],
                    "note": instructions["note"],
                    "values": {label: [] for label, _value in instructions["lines"]},
                },
            )
            for label, value in instructions["lines"]:
                if value not in block["values"][label]:
                    block["values"][label].append(value)
        return [
            {
                "title": block["title"],
                "lines": [
                    (label, ", ".join(values))
                    for label, values in block["values"].items()
                ],
                "note": block["note"],
            }
            for block in blocks.values()
        ]

    def _collection_get_reminder_overdue_url(self):
        """Return the portal page where the customer, once logged in, pays all the
        listed invoices at once, or an empty string when it cannot serve them
        (no portal user, several currencies or invoice addresses) or when the
        invoices are not all offered to pay online."""
        self.ensure_one()
        moves = self._collection_get_reminder_moves()
        if len(moves) < 2 or len(moves.currency_id) > 1 or len(moves.partner_id) > 1:
            return ""
        if moves != self._collection_get_reminder_payable_moves():
            return ""
        has_portal_user = (
            self.env["res.users"]
            .sudo()
            .search_count(
                [("partner_id", "=", moves.partner_id.id), ("share", "=", True)],
                limit=1,
            )
        )
        if not has_portal_user:
            return ""
        return f"{moves[:1].get_base_url()}/my/invoices/overdue"

    def _collection_get_reminder_pay_url(self):
        """Return one link to pay online, for text messages: the invoice's own
        link when there is one invoice, the portal's overdue invoices page when the
        customer can log in, else the link of the oldest invoice offered to pay
        online; an empty string when none is."""
        self.ensure_one()
        moves = self._collection_get_reminder_payable_moves()
        if not moves:
            return ""
        if len(moves) > 1 and (url := self._collection_get_reminder_overdue_url()):
            return url
        return moves[0]._collection_get_reminder_invoice_url()

    def _collection_get_reminder_pay_sentence(self):
        """Return the sentence of the text message with the link to pay online,
        in the customer's language, or an empty string when the customer is not
        offered to pay online."""
        self.ensure_one()
        url = self._collection_get_reminder_pay_url()
        if not url:
            return ""
        return self.env._("Pay online: %(url)s", url=url)
