# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

# Offline payment types, and the journal type each default line is created on.
OFFLINE_PAYMENT_TYPES = ("cheque", "transfer", "cash", "money_order", "other")
DEFAULT_OFFLINE_LINES = (
    ("cheque", "bank"),
    ("transfer", "bank"),
    ("money_order", "bank"),
    ("cash", "cash"),
)

# Partner fields that make up "how this customer pays".
COLLECTION_PARTNER_FIELDS = (
    "collection_mode",
    "collection_token_id",
    "property_inbound_payment_method_line_id",
)

# Invoice collection states in which nothing has been sent to a provider yet.
COLLECTION_UNSENT_STATES = ("scheduled",)
