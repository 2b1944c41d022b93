# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(
        self, modules, langs, overwrite=False, imported_module=False
    ):
        """Override of `base` to translate the offline payment methods the add-on
        created (Cheque, Bank transfer, Cash, Money order) into the languages
        loaded after them, as `account` does for the charts of accounts."""
        res = super()._load_module_terms(
            modules, langs, overwrite=overwrite, imported_module=imported_module
        )
        if "account_payment_collection" in modules and langs:
            if self.env.registry.loaded:
                self._collection_translate_offline_methods(langs, overwrite)
            else:
                # Before the registry is loaded (languages loaded at install),
                # wait for `_register_hook`.
                pending = self.env.registry.__dict__.setdefault(
                    "_collection_pending_translations", {}
                )
                for lang in langs:
                    pending[lang] = pending.get(lang, False) or overwrite
        return res

    def _register_hook(self):
        """Override of `base` to translate the offline payment methods into the
        languages loaded while the registry was not loaded yet."""
        res = super()._register_hook()
        pending = self.env.registry.__dict__.pop("_collection_pending_translations", {})
        for overwrite in {False, True}:
            langs = [lang for lang, value in pending.items() if value == overwrite]
            if langs:
                self._collection_translate_offline_methods(langs, overwrite)
        return res

    def _collection_translate_offline_methods(self, langs, overwrite=False):
        """Translate the default offline payment methods of every company.

        :param list langs: language codes
        :param bool overwrite: replace the translations the lines have
        """
        lines = (
            self.env["account.payment.method.line"]
            .sudo()
            .search([("offline_payment_type", "!=", False)])
        )
        lines._collection_translate_default_names(langs, overwrite=overwrite)
