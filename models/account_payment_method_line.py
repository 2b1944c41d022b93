# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import DEFAULT_OFFLINE_LINES


class AccountPaymentMethodLine(models.Model):
    _inherit = "account.payment.method.line"

    # Translated, so that the methods the add-on creates read "Chèque" for a
    # French user or customer and "Cheque" for an English one.
    name = fields.Char(translate=True)
    offline_payment_type = fields.Selection(
        selection="_selection_offline_payment_type",
        index="btree_not_null",
        help="Set on the methods customers pay you with outside of any online "
        "provider. Customers with such a method are never debited: their invoices "
        "carry the matching payment instructions.",
    )
    collection_instructions = fields.Text(
        translate=True,
        help="Printed on invoices and in invoice e-mails of the customers paying "
        "with this method, after the standard instructions (e.g. opening hours "
        "of the office that takes cheques).",
    )
    collection_allow_online_payment = fields.Boolean(
        string="Allow online payment",
        help="Customers paying with this method may also pay their invoices online "
        "(Pay button in the invoice e-mail and PDF, through Stripe or PayPal); "
        "customers of the other methods only get this method's instructions.",
    )

    @api.model
    def _selection_offline_payment_type(self):
        return [
            ("cheque", self.env._("Cheque")),
            ("transfer", self.env._("Bank transfer")),
            ("cash", self.env._("Cash")),
            ("money_order", self.env._("Money order")),
            ("other", self.env._("Other")),
        ]

    @api.model
    def _collection_get_default_names(self, langs):
        """The names of the default offline methods (cheque, bank transfer, cash,
        money order) in English and in each of ``langs``.

        :param list langs: language codes
        :return: ``{payment_type: {lang: name}}``, ``en_US`` included
        :rtype: dict
        """
        names = {}
        for lang in dict.fromkeys(["en_US", *langs]):
            labels = dict(
                self.with_context(lang=lang)._selection_offline_payment_type()
            )
            for payment_type, _journal_type in DEFAULT_OFFLINE_LINES:
                names.setdefault(payment_type, {})[lang] = labels[payment_type]
        return names

    def _collection_translate_default_names(self, langs=None, overwrite=False):
        """Give the default offline methods among these lines their name in
        ``langs`` (all installed languages by default).

        A line keeps a name of its own: only the lines still named as the add-on
        created them (in any of these languages) are translated, and only in
        the languages where they have no translation of their own, unless
        ``overwrite``.

        :param list langs: language codes, or ``None`` for the installed ones
        :param bool overwrite: replace the existing translations
        """
        if langs is None:
            langs = [code for code, _name in self.env["res.lang"].get_installed()]
        lines = self.filtered(
            lambda line: line.offline_payment_type
            in {payment_type for payment_type, _type in DEFAULT_OFFLINE_LINES}
        )
        if not lines:
            return
        names = self._collection_get_default_names(langs)
        name_field = self._fields["name"]
        for line in lines.sudo():
            defaults = names[line.offline_payment_type]
            known = set(defaults.values())
            stored = name_field._get_stored_translations(line) or {}
            if stored.get("en_US") not in known:
                continue  # renamed by the user
            translations = {
                lang: name
                for lang, name in defaults.items()
                if overwrite or stored.get(lang) in known or lang not in stored
            }
            translations = {
                lang: name
                for lang, name in translations.items()
                if stored.get(lang) != name
            }
            if translations:
                line.update_field_translations("name", translations)

    @api.constrains("offline_payment_type", "payment_method_id", "payment_provider_id")
    def _check_offline_payment_type(self):
        for line in self.filtered("offline_payment_type"):
            if line.payment_type != "inbound":
                raise ValidationError(
                    self.env._(
                        "%(method)s: only methods that receive money can be offline "
                        "payment methods.",
                        method=line.name,
                    )
                )
            if line.payment_provider_id:
                raise ValidationError(
                    self.env._(
                        "%(method)s is an online payment provider's method: it "
                        "cannot be an offline payment method.",
                        method=line.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        """Override of `account` so that an offline method added from the offline
        methods list receives money through the generic manual method."""
        for vals in vals_list:
            if vals.get("offline_payment_type") and not vals.get("payment_method_id"):
                vals["payment_method_id"] = self.env.ref(
                    "account.account_payment_method_manual_in"
                ).id
        return super().create(vals_list)
