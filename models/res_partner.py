# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..const import COLLECTION_PARTNER_FIELDS, COLLECTION_UNSENT_STATES


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

    @api.depends_context("company")
    @api.depends(*COLLECTION_PARTNER_FIELDS)
    def _compute_collection_summary(self):
        for partner in self:
            if partner.collection_mode == "automatic":
                partner.collection_summary = self.env._(
                    "Automatic: %(token)s",
                    token=partner.collection_token_id.sudo().display_name,
                )
            elif partner.collection_mode == "offline":
                partner.collection_summary = self.env._(
                    "Offline: %(method)s",
                    method=partner.property_inbound_payment_method_line_id.name,
                )
            else:
                partner.collection_summary = False

    def _search_collection_summary(self, operator, value):
        if operator not in ("ilike", "=", "not ilike", "!="):
            return []
        domain = [
            "|",
            ("property_inbound_payment_method_line_id.name", operator, value),
            ("collection_token_id.payment_details", operator, value),
        ]
        return domain

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
        """Override of `account` so that contacts pay like their company."""
        return super()._commercial_fields() + list(COLLECTION_PARTNER_FIELDS)

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
            partner.message_post(body=Markup("<p>%s</p>") % body)

    def _collection_update_open_invoices(self):
        """Carry the new preferred payment method over to the unpaid invoices of
        these customers in the current company."""
        moves = self.env["account.move"].search(
            [
                ("commercial_partner_id", "in", self.ids),
                ("company_id", "=", self.env.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "in", ("draft", "posted")),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        for partner, partner_moves in moves.grouped("commercial_partner_id").items():
            partner_moves.preferred_payment_method_line_id = (
                partner.property_inbound_payment_method_line_id
            )
