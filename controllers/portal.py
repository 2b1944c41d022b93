# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re
from datetime import date
from urllib.parse import quote

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.http import request
from odoo.tools import consteq, format_amount, format_date

from odoo.addons.account_payment.controllers import portal as account_payment_portal
from odoo.addons.portal.controllers.portal import pager as portal_pager

# Strict formats of the proposal form's fields.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID_RE = re.compile(r"[0-9]{1,10}")
_MAX_ID = 2**31 - 1  # PostgreSQL integer
_MAX_INVOICES = 200
# The longest list of ids worth parsing: 200 ids of 10 digits, each with a
# comma and a space. Anything longer is refused before being split.
_MAX_IDS_LENGTH = _MAX_INVOICES * 12
# Portal access tokens are UUIDs (36 characters); anything much longer, not a
# string or not ASCII cannot be one.
_MAX_TOKEN_LENGTH = 128
# The reasons an invoice is held by a payment plan, and the state of its plan.
_PLAN_BLOCK_REASONS = {"plan_proposed": "proposed", "plan_active": "active"}
_FORM_FIELDS = (
    "plan_kind",
    "installment_count",
    "day_of_month",
    "first_date",
    "reason",
)


class CollectionPortal(account_payment_portal.PortalAccount):
    """Customer side of the payment plans: the request button on invoices, the
    proposal form with its server-computed preview, the plans' pages and the
    payment of the next installment through Odoo's payment form."""

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------

    def _document_check_access(self, model_name, document_id, access_token=None):
        """Override of `portal` to treat a token that cannot be a token (not a
        string, not ASCII, overlong) as a wrong one: `consteq` would raise a
        TypeError (a server error) on it. Protects every portal route, core's
        included, going through this class.

        :raise AccessError: no access without a token, and no valid token
        :raise MissingError: the document does not exist
        """
        return super()._document_check_access(
            model_name,
            document_id,
            access_token=self._collection_clean_access_token(access_token),
        )

    @staticmethod
    def _collection_clean_access_token(access_token):
        """Return ``access_token`` if it may be compared with `consteq` (a
        non-empty ASCII string of at most 128 characters), ``None`` otherwise.

        :rtype: str|None
        """
        if (
            not isinstance(access_token, str)
            or not access_token
            or len(access_token) > _MAX_TOKEN_LENGTH
            or not access_token.isascii()
        ):
            return None
        return access_token

    # ------------------------------------------------------------------
    # Portal home, invoices list and invoice page
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        """Override of `portal` to count the customer's payment plans."""
        values = super()._prepare_home_portal_values(counters)
        if "payment_plan_count" in counters:
            Plan = request.env["collection.plan"]
            values["payment_plan_count"] = (
                Plan.search_count(self._collection_get_plans_domain(), limit=1)
                if Plan.has_access("read")
                else 0
            )
        return values

    def _get_overdue_invoices_domain(self, partner_id=None):
        """Override of `account` to leave the invoices blocked by a payment plan
        (or a dispute) out of the overdue invoices to pay."""
        return super()._get_overdue_invoices_domain(partner_id=partner_id) + [
            ("collection_block_reason", "=", False)
        ]

    def _prepare_my_invoices_values(self, *args, **kwargs):
        """Override of `account` to flag the invoices of the list that may be put
        in a payment plan (a checkbox is shown for them)."""
        values = super()._prepare_my_invoices_values(*args, **kwargs)
        get_invoices = values["invoices"]

        def get_invoices_with_plan_flag(pager_offset):
            invoices_data = get_invoices(pager_offset)
            if not isinstance(invoices_data, list):
                return invoices_data
            invoices = request.env["account.move"].browse(
                [data["invoice"].id for data in invoices_data]
            )
            eligible_ids = set(
                invoices._collection_filter_plan_eligible(
                    request.env.user.partner_id
                ).ids
            )
            for data in invoices_data:
                data["collection_plan_eligible"] = data["invoice"].id in eligible_ids
                data.update(self._collection_invoice_plan_badge_values(data["invoice"]))
            return invoices_data

        values["invoices"] = get_invoices_with_plan_flag
        Move = request.env["account.move"]
        domain = request.env["collection.plan"]._get_eligible_invoices_domain(
            request.env.user.partner_id
        ) + [("company_id.collection_allow_plan_proposal", "=", True)]
        values["collection_plan_selectable"] = Move.has_access("read") and bool(
            Move.search(domain, limit=1)._collection_filter_plan_eligible(
                request.env.user.partner_id
            )
        )
        return values

    @staticmethod
    def _collection_invoice_plan_badge_values(invoice):
        """Values of the mark of an invoice held by a payment plan in the
        portal's invoices list: the plan's state (``proposed`` or ``active``) and
        its page, or nothing.

        :param recordset invoice: an invoice of the list (the visitor's)
        :rtype: dict
        """
        invoice_sudo = invoice.sudo()
        plan_sudo = invoice_sudo.collection_plan_id
        if (
            invoice_sudo.collection_block_reason not in _PLAN_BLOCK_REASONS
            or plan_sudo.state not in _PLAN_BLOCK_REASONS.values()
        ):
            return {"collection_plan_state": False, "collection_plan_url": False}
        return {
            "collection_plan_state": plan_sudo.state,
            "collection_plan_url": plan_sudo.access_url,
        }

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        """Override of `account_payment` to offer a payment plan on an unpaid
        invoice, or show where the invoice's plan stands."""
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        values.update(self._collection_invoice_plan_values(invoice, access_token))
        return values

    def _collection_invoice_plan_values(self, invoice, access_token):
        """Values of the payment plan block of the portal invoice page.

        :param recordset invoice: the invoice (sudo), access already checked
        :param str access_token: the invoice's access token, if the visitor used it
        :rtype: dict
        """
        invoice_sudo = invoice.sudo()
        values = {
            "collection_plan_request_url": False,
            "collection_plan_sudo": False,
            "collection_plan_url": False,
            "collection_plan_pay_url": False,
        }
        if invoice_sudo._collection_filter_plan_eligible(invoice_sudo.partner_id):
            # The form gets the token only if it is this invoice's.
            clean_token = self._collection_clean_access_token(access_token)
            if not (
                clean_token
                and invoice_sudo.access_token
                and consteq(invoice_sudo.access_token, clean_token)
            ):
                clean_token = None
            values["collection_plan_request_url"] = self._collection_plan_form_url(
                invoice_sudo, clean_token
            )
        plan_sudo = invoice_sudo.collection_plan_id
        if plan_sudo and invoice_sudo.collection_block_reason in (
            "plan_proposed",
            "plan_active",
        ):
            values["collection_plan_sudo"] = plan_sudo
            values["collection_plan_url"] = plan_sudo.get_portal_url()
            values["collection_plan_pay_url"] = plan_sudo._get_pay_url()
        return values

    @staticmethod
    def _collection_plan_form_url(invoices, access_token=None):
        url = "/my/invoices/payment_plan?invoice_ids={}".format(
            ",".join(str(invoice_id) for invoice_id in invoices.ids)
        )
        if access_token:
            url += f"&access_token={quote(access_token)}"
        return url

    # ------------------------------------------------------------------
    # Proposal form
    # ------------------------------------------------------------------

    @http.route(
        "/my/invoices/payment_plan",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def portal_payment_plan_form(self, access_token=None, **post):
        """Show (GET) or submit (POST) the payment plan proposal form.

        Unknown, malformed or someone else's invoices answer 404, whatever the
        reason, so that the page never reveals what exists.
        """
        raw_ids = request.httprequest.values.getlist("invoice_ids")
        if not access_token and request.env.user._is_public():
            form_url = self._collection_plan_form_url_from_raw(raw_ids)
            return request.redirect(f"/web/login?redirect={quote(form_url)}")
        access = self._collection_plan_get_invoices(raw_ids, access_token)
        if not access:
            return request.not_found()
        partner_sudo, invoices_sudo = access
        Plan = request.env["collection.plan"]
        if request.httprequest.method != "POST":
            return self._collection_plan_render_form(
                partner_sudo,
                invoices_sudo,
                access_token,
                self._collection_plan_form_from_values(
                    Plan._get_default_proposal(invoices_sudo)
                ),
            )

        form = self._collection_plan_read_form(post)
        try:
            Plan._check_proposal_invoices(partner_sudo, invoices_sudo)
        except ValidationError as error:
            return self._collection_plan_render_form(
                partner_sudo, invoices_sudo, access_token, form, error=error.args[0]
            )
        try:
            values = self._collection_plan_parse_form(form)
            with request.env.cr.savepoint():
                plan_sudo = Plan._create_proposal(partner_sudo, invoices_sudo, values)
        except ValidationError as error:
            return self._collection_plan_render_form(
                partner_sudo, invoices_sudo, access_token, form, error=error.args[0]
            )
        return request.redirect(
            plan_sudo.get_portal_url(query_string="&message=proposed")
        )

    @http.route(
        "/my/invoices/payment_plan/preview",
        type="json",
        auth="public",
        methods=["POST"],
        # In the language of the form's page (a visitor's too).
        website=True,
    )
    def portal_payment_plan_preview(self, invoice_ids=None, access_token=None, **form):
        """Return the schedule the server would create for these choices.

        :return: ``{"installments": [{"date", "date_iso", "amount"}], "total"}``,
            or ``{"error": message}`` when the choices would be refused
        :rtype: dict
        """
        if not access_token and request.env.user._is_public():
            raise NotFound()
        access = self._collection_plan_get_invoices(invoice_ids, access_token)
        if not access:
            raise NotFound()
        partner_sudo, invoices_sudo = access
        form = self._collection_plan_read_form(form)
        return self._collection_plan_preview(partner_sudo, invoices_sudo, form)

    @staticmethod
    def _collection_plan_read_form(source):
        """The form's fields as strings, whatever the client sent (anything
        but a string or a whole number counts as empty)."""
        form = {}
        for name in _FORM_FIELDS:
            value = source.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            form[name] = value if isinstance(value, str) else ""
        return form

    def _collection_plan_get_invoices(self, raw_ids, access_token=None):
        """Return ``(partner_sudo, invoices_sudo)`` when the visitor may propose a
        plan for these invoices, ``None`` otherwise (answer 404).

        A logged-in customer may use their commercial partner's customer
        invoices; a visitor with an invoice's access token only that invoice. A
        token that cannot be one (not an ASCII string) is a wrong token.
        """
        invoice_ids = self._collection_parse_ids(raw_ids)
        if not invoice_ids:
            return None
        clean_token = self._collection_clean_access_token(access_token)
        if access_token and not clean_token:
            return None
        Move = request.env["account.move"]
        invoices_sudo = Move.sudo().browse(invoice_ids).exists()
        if len(invoices_sudo) != len(invoice_ids) or any(
            invoice.move_type != "out_invoice" for invoice in invoices_sudo
        ):
            return None
        if clean_token:
            if (
                len(invoices_sudo) != 1
                or not invoices_sudo.access_token
                or not consteq(invoices_sudo.access_token, clean_token)
            ):
                return None
            return invoices_sudo.partner_id, invoices_sudo
        if request.env.user._is_public():
            return None
        try:
            Move.browse(invoice_ids).check_access("read")
        except AccessError:
            return None
        partner_sudo = request.env.user.partner_id.sudo()
        if invoices_sudo.commercial_partner_id != partner_sudo.commercial_partner_id:
            return None
        return partner_sudo, invoices_sudo

    @staticmethod
    def _collection_parse_ids(raw_ids):
        """Parse ``"1,2"`` (or a list of such strings, or of ints) strictly, in
        linear time: an input longer than 200 ids can be is refused before it is
        split.

        :return: the ids without duplicates, in order, or ``None`` if malformed
            or more than 200
        :rtype: list|None
        """
        if isinstance(raw_ids, str | int) and not isinstance(raw_ids, bool):
            raw_ids = [raw_ids]
        if not isinstance(raw_ids, list) or not 0 < len(raw_ids) <= _MAX_INVOICES:
            return None
        if any(
            isinstance(raw, bool) or not isinstance(raw, str | int) for raw in raw_ids
        ):
            return None
        if sum(len(raw) for raw in raw_ids if isinstance(raw, str)) > _MAX_IDS_LENGTH:
            return None
        invoice_ids = {}  # ordered, without duplicates
        for raw in raw_ids:
            parts = [raw] if isinstance(raw, int) else raw.split(",")
            for part in parts:
                if isinstance(part, str):
                    part = part.strip()
                    if not _ID_RE.fullmatch(part):
                        return None
                    part = int(part)
                if not 0 < part <= _MAX_ID:
                    return None
                invoice_ids[part] = True
        if len(invoice_ids) > _MAX_INVOICES:
            return None
        return list(invoice_ids)

    def _collection_plan_form_url_from_raw(self, raw_ids):
        invoice_ids = self._collection_parse_ids(raw_ids) or []
        return "/my/invoices/payment_plan?invoice_ids={}".format(
            ",".join(str(invoice_id) for invoice_id in invoice_ids)
        )

    def _collection_plan_parse_form(self, form):
        """Turn the form's strings into the values of `_create_proposal`.

        Malformed numbers become ``None`` (the model names the field to fix); a
        malformed date is refused here.

        :raise ValidationError: when the first date is not a ``YYYY-MM-DD`` date
        :rtype: dict
        """
        first_date = None
        raw_date = (form.get("first_date") or "").strip()
        if raw_date:
            try:
                if not _DATE_RE.fullmatch(raw_date):
                    raise ValueError(raw_date)
                first_date = date.fromisoformat(raw_date)
            except ValueError as error:
                raise ValidationError(
                    request.env._(
                        "The date of the first payment is not a valid date "
                        "(expected format: YYYY-MM-DD)."
                    )
                ) from error
        return {
            "plan_kind": (form.get("plan_kind") or "").strip(),
            "installment_count": self._cast_as_int(form.get("installment_count")),
            "day_of_month": self._cast_as_int(form.get("day_of_month")),
            "first_date": first_date,
            "reason": form.get("reason") or "",
        }

    def _collection_plan_preview(
        self, partner_sudo, invoices_sudo, form, check_invoices=True
    ):
        """Compute the schedule of the form's choices without storing anything.

        The reason is not checked while the customer fills in the form: it does
        not change the schedule and is checked on submission.
        """
        Plan = request.env["collection.plan"]
        try:
            if check_invoices:
                Plan._check_proposal_invoices(partner_sudo, invoices_sudo)
            values = self._collection_plan_parse_form(form)
            schedule = Plan._prepare_schedule(invoices_sudo, values, check_reason=False)
        except ValidationError as error:
            return {"error": error.args[0]}
        currency = invoices_sudo.currency_id
        env = request.env
        return {
            "note": self._collection_plan_schedule_note(values, schedule),
            "installments": [
                {
                    "date_iso": fields.Date.to_string(due_date),
                    "date": format_date(env, due_date),
                    "amount": format_amount(env, amount, currency),
                }
                for due_date, amount in schedule
            ],
            "total": format_amount(
                env, sum(amount for _date, amount in schedule), currency
            ),
        }

    @staticmethod
    def _collection_plan_schedule_note(values, schedule):
        """The sentence under the preview saying when the installments fall, in
        the visitor's language: the first date is the server's, whatever date
        the customer typed (a monthly plan starts on the chosen day).

        :param dict values: the parsed choices (`_collection_plan_parse_form`)
        :param list schedule: ``[(date, amount)]`` from `_prepare_schedule`
        :rtype: str
        """
        env = request.env
        first_date = schedule[0][0]
        if values["plan_kind"] == "monthly":
            day = values["day_of_month"]
            if day == 1:
                ordinal = env._("1st")
            elif day in (21, 31):
                ordinal = env._("%(day)sst", day=day)
            elif day in (2, 22):
                ordinal = env._("%(day)snd", day=day)
            elif day in (3, 23):
                ordinal = env._("%(day)srd", day=day)
            else:
                ordinal = env._("%(day)sth", day=day)
            if day >= 29:
                return env._(
                    "First installment on %(date)s, then on the %(day)s of each "
                    "month, or on the last day of shorter months.",
                    date=format_date(env, first_date),
                    day=ordinal,
                )
            return env._(
                "First installment on %(date)s, then on the %(day)s of each month.",
                date=format_date(env, first_date),
                day=ordinal,
            )
        if values["plan_kind"] == "weekly":
            return env._(
                "First installment on %(date)s, then every %(weekday)s.",
                date=format_date(env, first_date),
                weekday=format_date(env, first_date, date_format="EEEE"),
            )
        return env._(
            "You pay everything on %(date)s.", date=format_date(env, first_date)
        )

    @staticmethod
    def _collection_plan_form_from_values(values):
        """The form's strings showing the values of a proposal (as
        `collection.plan._get_default_proposal` returns them)."""
        return {
            "plan_kind": values.get("plan_kind") or "",
            "installment_count": str(values.get("installment_count") or ""),
            "day_of_month": str(values.get("day_of_month") or ""),
            "first_date": fields.Date.to_string(values.get("first_date")) or "",
            "reason": values.get("reason") or "",
        }

    def _collection_plan_render_form(
        self, partner_sudo, invoices_sudo, access_token, form, error=None
    ):
        """Render the proposal form; a refused submission (``error``) answers
        422 with the form and the message."""
        company = invoices_sudo.company_id[:1]
        currency = invoices_sudo.currency_id[:1]
        Plan = request.env["collection.plan"]
        blocking_error = None
        try:
            Plan._check_proposal_invoices(partner_sudo, invoices_sudo)
        except ValidationError as check_error:
            blocking_error = check_error.args[0]
        allowed_kinds = company._collection_plan_allowed_kinds()
        kind_labels = dict(Plan._selection_plan_kind())
        # A refused NUL character is not echoed back into the page.
        form = dict(form, reason=form["reason"].replace("\x00", ""))
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "payment_plan_form",
                "no_breadcrumbs": request.env.user._is_public(),
                "invoices": invoices_sudo.sorted(
                    lambda inv: (inv.invoice_date_due or inv.date, inv.id)
                ),
                "invoice_ids": ",".join(str(i) for i in invoices_sudo.ids),
                "access_token": access_token or "",
                "currency": currency,
                "amount_total": sum(invoices_sudo.mapped("amount_residual")),
                "plan_kinds": [(kind, kind_labels[kind]) for kind in allowed_kinds],
                "max_installments": company.collection_plan_max_installments,
                "installment_count_help": request.env._(
                    "From 2 to %(max)s installments.",
                    max=company.collection_plan_max_installments,
                ),
                "reason_required": company.collection_plan_reason_required,
                "today": fields.Date.to_string(
                    fields.Date.context_today(request.env.user)
                ),
                "form": form,
                "error": error,
                "blocking_error": blocking_error,
                "preview": (
                    {}
                    if blocking_error
                    else self._collection_plan_preview(
                        partner_sudo, invoices_sudo, form, check_invoices=False
                    )
                ),
                "invoices_url": (
                    invoices_sudo[:1].get_portal_url()
                    if access_token
                    else "/my/invoices"
                ),
            }
        )
        return request.render(
            "account_payment_collection.collection_plan_portal_form",
            values,
            status=422 if error else 200,
        )

    # ------------------------------------------------------------------
    # The customer's payment plans
    # ------------------------------------------------------------------

    def _collection_get_plans_domain(self):
        return [
            ("partner_id", "=", request.env.user.partner_id.commercial_partner_id.id)
        ]

    @http.route(
        ["/my/payment_plans", "/my/payment_plans/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_payment_plans(self, page=1, **kw):
        Plan = request.env["collection.plan"]
        domain = self._collection_get_plans_domain()
        can_read = Plan.has_access("read")
        pager = portal_pager(
            url="/my/payment_plans",
            total=Plan.search_count(domain) if can_read else 0,
            page=page,
            step=self._items_per_page,
        )
        plans = (
            Plan.search(domain, limit=self._items_per_page, offset=pager["offset"])
            if can_read
            else Plan
        )
        request.session["my_payment_plans_history"] = plans.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "payment_plan",
                "plans": plans.sudo(),
                "pager": pager,
                "default_url": "/my/payment_plans",
            }
        )
        return request.render(
            "account_payment_collection.portal_my_payment_plans", values
        )

    @http.route(
        "/my/payment_plans/<int:plan_id>",
        type="http",
        auth="public",
        website=True,
        sitemap=False,
    )
    def portal_my_payment_plan(self, plan_id, access_token=None, message=None, **kw):
        try:
            plan_sudo = self._document_check_access(
                "collection.plan", plan_id, access_token
            )
        except (AccessError, MissingError):
            return request.not_found()
        values = self._collection_plan_page_values(
            plan_sudo, self._collection_clean_access_token(access_token), **kw
        )
        values["message"] = message
        return request.render(
            "account_payment_collection.collection_plan_portal_template", values
        )

    def _collection_plan_page_values(self, plan_sudo, access_token, **kwargs):
        """Values of the plan's page (and of its pay page).

        The plan's invoices are listed, but linked only when the visitor may
        read them without a token: the plan's link never opens its invoices,
        and no invoice's access token is ever printed.
        """
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "payment_plan",
                "plan": plan_sudo,
                "invoices": plan_sudo.invoice_ids.sorted(
                    lambda inv: (inv.invoice_date_due or inv.date, inv.id)
                ),
                "readable_invoice_ids": set(
                    plan_sudo.invoice_ids.with_env(request.env)
                    ._filtered_access("read")
                    .ids
                ),
                "next_installment": (
                    plan_sudo.next_installment_id
                    if plan_sudo.state == "active"
                    else plan_sudo.browse()
                ),
                "pay_url": plan_sudo._get_pay_url(),
                "today": fields.Date.context_today(request.env.user),
            }
        )
        values = self._get_page_view_values(
            plan_sudo,
            access_token,
            values,
            "my_payment_plans_history",
            False,
            **kwargs,
        )
        values["no_breadcrumbs"] = request.env.user._is_public()
        return values
