# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

# The offline payment types that every company gets a default method line for,
# and the journal type each line is created on.
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

# Domain operators the "Pays By" label (res.partner.collection_summary) can be
# searched with: those Odoo applies to a Char field.
COLLECTION_SUMMARY_OPERATORS = (
    "=",
    "!=",
    "=?",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "=like",
    "=ilike",
    "in",
    "not in",
)

# Invoice collection states in which nothing has been sent to a provider yet.
COLLECTION_UNSENT_STATES = ("scheduled",)
