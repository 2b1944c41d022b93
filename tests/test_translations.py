# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestTranslations(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["account_payment_collection"], ["fr_FR"], overwrite=True
        )

    def test_refusals_are_translated(self):
        customer_fr = self.customer.with_context(lang="fr_FR")
        with self.assertRefused(ValidationError, "Chèque|chèque|virement"):
            customer_fr.write({"collection_mode": "offline"})
        with self.assertRefused(ValidationError, "données de paiement"):
            customer_fr.write({"collection_mode": "automatic"})
        self.assertFalse(self.customer.collection_mode)

    def test_labels_and_instructions_are_translated(self):
        modes = dict(
            self.env["res.partner"]
            .with_context(lang="fr_FR")
            ._selection_collection_mode()
        )
        self.assertEqual(modes["offline"], "Hors ligne")
        self.customer.lang = "fr_FR"
        self._set_offline(self.customer)
        invoice = self._make_invoice(self.customer)
        self.assertEqual(
            invoice._collection_get_payment_instructions()["title"], "Payer par chèque"
        )
