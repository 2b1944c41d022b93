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
# Invoice collection states of a debit sent and not answered for good yet: the
# invoice is neither debited again nor reminded meanwhile.
COLLECTION_IN_FLIGHT_STATES = ("sent", "pending")
# Invoice collection states in which the invoice is being collected
# automatically, hence not reminded.
COLLECTION_IN_PROGRESS_STATES = ("scheduled", "sent", "pending")

# How a refused debit is followed up, from the provider's reason
# (payment.transaction.collection_failure_kind).
COLLECTION_FAILURE_KINDS = ("soft", "hard", "authentication_required")

# GoCardless ------------------------------------------------------------------

# Seconds the GoCardless SDK waits for an answer to each of its attempts (it
# makes up to 3 attempts, with the same idempotency key).
GOCARDLESS_TIMEOUT = 20

# The payment method codes activated with the provider.
GOCARDLESS_DEFAULT_PAYMENT_METHOD_CODES = {"sepa_direct_debit"}

# The mandate scheme and currency of the registrations (SEPA Core in EUR).
GOCARDLESS_SCHEME = "sepa_core"
GOCARDLESS_CURRENCY = "EUR"

# The languages of GoCardless's hosted pages (ISO 639-1).
GOCARDLESS_LANGUAGES = (
    "da",
    "de",
    "en",
    "es",
    "fr",
    "it",
    "nb",
    "nl",
    "pt",
    "sl",
    "sv",
)

# Transaction state → GoCardless payment statuses. `charged_back` is handled
# apart: the money was collected, then taken back by the payer's bank.
GOCARDLESS_PAYMENT_STATUS_MAPPING = {
    "pending": ("pending_customer_approval", "pending_submission", "submitted"),
    "done": ("confirmed", "paid_out"),
    "error": ("failed", "cancelled", "customer_approval_denied"),
}
GOCARDLESS_CHARGED_BACK_STATUS = "charged_back"

# Payment failure causes (the event's `details.cause`) that may succeed when the
# debit is retried later; any other cause is a hard failure.
GOCARDLESS_SOFT_FAILURE_CAUSES = ("insufficient_funds", "refer_to_payer")

# API error reasons of a payment creation that end the debits from the mandate.
GOCARDLESS_MANDATE_INACTIVE_REASONS = ("mandate_is_inactive",)

# Mandate statuses that end the debits from the mandate.
GOCARDLESS_MANDATE_INACTIVE_STATUSES = (
    "cancelled",
    "expired",
    "failed",
    "consumed",
    "blocked",
    "suspended_by_payer",
)

# Billing request statuses that end a registration without a mandate.
GOCARDLESS_BILLING_REQUEST_FAILED_STATUSES = ("cancelled", "failed")

# The webhook events this add-on handles (`resource_type`: actions); any other
# event is acknowledged and ignored.
GOCARDLESS_HANDLED_EVENTS = {
    "payments": (
        "created",
        "customer_approval_granted",
        "customer_approval_denied",
        "submitted",
        "confirmed",
        "paid_out",
        "failed",
        "late_failure_settled",
        "charged_back",
        "chargeback_settled",
        "chargeback_cancelled",
        "cancelled",
        "resubmission_requested",
    ),
    "mandates": (
        "created",
        "customer_approval_granted",
        "customer_approval_skipped",
        "submitted",
        "active",
        "reinstated",
        "replaced",
        "transferred",
        "cancelled",
        "expired",
        "failed",
        "consumed",
        "blocked",
        "suspended_by_payer",
    ),
    "billing_requests": ("fulfilled", "cancelled", "failed"),
    # The fees of the payments paid out (issue 10).
    "payouts": ("paid",),
}

# The most events GoCardless sends in one webhook request.
GOCARDLESS_WEBHOOK_BATCH_SIZE = 250

# Stripe: automatic collection on Odoo's own `payment_stripe` provider.

# Seconds a call of the Stripe SDK waits for Stripe's answer, and how many times
# the SDK sends again (with the same idempotency key) a call that got no answer,
# a conflict or a server error.
STRIPE_TIMEOUT = 30
STRIPE_MAX_NETWORK_RETRIES = 2

# The payment methods a customer can register through Stripe (Odoo's codes) and
# their Stripe types, for a Checkout Session's `allowed_payment_method_types`.
STRIPE_REGISTRATION_METHOD_TYPES = {
    "card": "card",
    "sepa_direct_debit": "sepa_debit",
}

# The webhook events this add-on handles itself; `payment_stripe` handles its
# own (payment intents, setup intents, refunds).
STRIPE_COLLECTION_EVENTS = (
    "checkout.session.completed",
    "checkout.session.expired",
    "setup_intent.setup_failed",
    "charge.dispute.created",
    "mandate.updated",
    "payment_method.detached",
)

# The kind of failure of an automatic debit, by Stripe decline code or error
# code (the decline code first): `soft` may succeed when retried later,
# `authentication_required` needs the customer on-session; any other code is
# `hard` (STRIPE_DEFAULT_FAILURE_KIND): this card or mandate will not be debited.
STRIPE_FAILURE_KINDS = {
    "authentication_required": "authentication_required",
    "insufficient_funds": "soft",
    "processing_error": "soft",
    "try_again_later": "soft",
    "generic_decline": "soft",
    "do_not_honor": "soft",
    "rate_limit": "soft",
    "issuer_not_available": "soft",
    "reenter_transaction": "soft",
    "card_velocity_exceeded": "soft",
    "withdrawal_count_limit_exceeded": "soft",
    "expired_card": "hard",
    "lost_card": "hard",
    "stolen_card": "hard",
    "pickup_card": "hard",
    "incorrect_number": "hard",
    "invalid_account": "hard",
    "account_closed": "hard",
    "no_account": "hard",
    "debit_not_authorized": "hard",
    "card_not_supported": "hard",
}
STRIPE_DEFAULT_FAILURE_KIND = "hard"

# Dispute statuses of a mere inquiry (no funds withdrawn yet): not a chargeback.
STRIPE_INQUIRY_DISPUTE_STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
)

# Languages of Stripe Checkout's hosted page (its `locale`), by Odoo language
# prefix; other languages get "auto" (the customer's browser decides).
STRIPE_CHECKOUT_LOCALES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "hr", "hu", "id",
    "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "ro", "ru",
    "sk", "sl", "sv", "th", "tr", "vi", "zh",
)  # fmt: skip

# Online payments and fees ------------------------------------------------------

# The default commission account of online payment providers, by chart template
# xml id (the company's id prefixes it): the French chart's 627800 "Autres frais
# et commissions sur prestations de services" (627: Services bancaires et
# assimilés). Without it, an expense account whose code starts like
# COLLECTION_FEE_ACCOUNT_CODE, else one created with that code.
COLLECTION_FEE_ACCOUNT_XMLIDS = ("pcg_6278",)
COLLECTION_FEE_ACCOUNT_CODE = "627800"

# Stripe: the balance transactions of charges, read for their exact fee.
STRIPE_FEE_EXPAND = ["latest_charge.balance_transaction"]

# GoCardless payout item types that are fees, by payment (their amount is
# negative: a debit of the payout).
GOCARDLESS_FEE_ITEM_TYPES = ("gocardless_fee", "app_fee")
