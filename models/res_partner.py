# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import re

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools.misc import format_amount

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
                token=token.sudo().display_name if token else "",
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
        """Raise unless the partner's collection token can be debited in the
        current company."""
        self.ensure_one()
        token = self.collection_token_id.sudo()
        if not token:
            raise ValidationError(
                self.env._(
                    "%(partner)s cannot be collected automatically yet: no saved card "
                    "or SEPA mandate is selected. Ask the customer to save one (for "
                    'instance by paying an invoice online and ticking "Save my '
                    'payment details"), then choose it in Collection Token; until '
                    "then keep the customer offline.",
                    partner=self.display_name,
                )
            )
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

    def _collection_stop_automatic(self):
        """Stop, in the current company, every automatic debit of these customers
        that has not been sent to a payment provider yet, and say so."""
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
                self.env._("Automatic debit cancelled: the customer now pays offline."),
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
