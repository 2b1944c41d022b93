/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import {_t} from "@web/core/l10n/translation";
import {rpc} from "@web/core/network/rpc";
import {debounce} from "@web/core/utils/timing";
import publicWidget from "@web/legacy/js/public/public_widget";

const PREVIEW_ROUTE = "/my/invoices/payment_plan/preview";
const PREVIEW_FIELDS = ["plan_kind", "installment_count", "day_of_month", "first_date"];

/**
 * @param {string} value a `YYYY-MM-DD` date
 * @returns {number[]|null} `[year, month (1-12), day]`, or `null` if malformed
 */
function parseIsoDate(value) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
    return match ? match.slice(1).map(Number) : null;
}

/**
 * @param {number} year
 * @param {number} month 1-12, or beyond (the following years)
 * @param {number} day 1-31: days 29 to 31 fall on the last day of shorter
 *  months, as on the server
 * @returns {string} the `YYYY-MM-DD` date
 */
function isoDateOnDay(year, month, day) {
    const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const date = new Date(Date.UTC(year, month - 1, Math.min(day, lastDay)));
    return date.toISOString().slice(0, 10);
}

/**
 * @param {string} value a `YYYY-MM-DD` date
 * @param {number} days
 * @returns {string} the `YYYY-MM-DD` date `days` later
 */
function addDays(value, days) {
    const [year, month, day] = parseIsoDate(value);
    return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/**
 * The payment plan proposal form: shows the fields of the chosen kind and keeps
 * the schedule preview up to date. The schedule (dates and amounts) is always
 * computed by the server; this widget only displays it.
 *
 * In a monthly plan, the day of the month and the date of the first payment
 * never contradict each other: choosing a day moves the first date to that day
 * (in the month of the first date, or the next month if that day is not after
 * today), choosing a first date sets the day to its day.
 */
publicWidget.registry.CollectionPaymentPlanForm = publicWidget.Widget.extend({
    selector: "form.o_account_payment_collection_plan_form",
    events: {
        "input input": "_onFieldChange",
        "change input": "_onFieldChange",
        submit: "_onSubmit",
    },

    init() {
        this._super(...arguments);
        this._previewSequence = 0;
        this._lastPreviewKey = null;
        this._debouncedPreview = debounce(() => this._updatePreview(), 300);
    },

    start() {
        this._toggleKindFields();
        this._lastPreviewKey = this._previewKey();
        return this._super(...arguments);
    },

    destroy() {
        this._debouncedPreview.cancel();
        this._super(...arguments);
    },

    //--------------------------------------------------------------------------
    // Handlers
    //--------------------------------------------------------------------------

    _onFieldChange(ev) {
        if (!PREVIEW_FIELDS.includes(ev.target.name)) {
            return;
        }
        if (ev.target.name === "plan_kind") {
            this._toggleKindFields();
            if (this._getValue("plan_kind") === "monthly") {
                this._setDayFromFirstDate();
            }
        } else if (ev.type === "change" && this._getValue("plan_kind") === "monthly") {
            // On "change" only: while the customer types "15", the day is "1"
            // for a moment.
            if (ev.target.name === "day_of_month") {
                this._setFirstDateFromDay();
            } else if (ev.target.name === "first_date") {
                this._setDayFromFirstDate();
            }
        }
        if (this._previewKey() !== this._lastPreviewKey) {
            this._debouncedPreview();
        }
    },

    _onSubmit() {
        // Let the browser post the form; just avoid a double click.
        const button = this.el.querySelector(
            ".o_account_payment_collection_plan_submit"
        );
        if (button) {
            setTimeout(() => button.setAttribute("disabled", "disabled"));
        }
    },

    //--------------------------------------------------------------------------
    // Private
    //--------------------------------------------------------------------------

    _getValue(name) {
        const field = this.el.elements[name];
        if (!field) {
            return "";
        }
        return field.value ?? "";
    },

    /**
     * Move the first date to the chosen day of the month: in the month of the
     * current first date, or the month after when that day is not after today
     * (days 29 to 31 fall on the last day of shorter months).
     */
    _setFirstDateFromDay() {
        const dayText = this._getValue("day_of_month").trim();
        const day = Number(dayText);
        const dateField = this.el.elements.first_date;
        if (!dateField || !/^\d{1,2}$/.test(dayText) || day < 1 || day > 31) {
            return; // The server says what to fix.
        }
        const today = parseIsoDate(dateField.min) ? dateField.min : null;
        const tomorrow = today && addDays(today, 1);
        let anchor = parseIsoDate(dateField.value) ? dateField.value : tomorrow;
        if (!anchor) {
            return;
        }
        if (tomorrow && anchor < tomorrow) {
            anchor = tomorrow;
        }
        const [year, month] = parseIsoDate(anchor);
        let firstDate = isoDateOnDay(year, month, day);
        if (tomorrow && firstDate < tomorrow) {
            firstDate = isoDateOnDay(year, month + 1, day);
        }
        dateField.value = firstDate;
    },

    /**
     * Set the day of the month to the day of the first date.
     */
    _setDayFromFirstDate() {
        const date = parseIsoDate(this._getValue("first_date"));
        const dayField = this.el.elements.day_of_month;
        if (date && dayField) {
            dayField.value = String(date[2]);
        }
    },

    _previewKey() {
        return JSON.stringify(PREVIEW_FIELDS.map((name) => this._getValue(name)));
    },

    _toggleKindFields() {
        const kind = this._getValue("plan_kind");
        const countField = this.el.querySelector(
            ".o_account_payment_collection_field_count"
        );
        const dayField = this.el.querySelector(
            ".o_account_payment_collection_field_day"
        );
        countField?.classList.toggle("d-none", kind === "deferred");
        dayField?.classList.toggle("d-none", kind !== "monthly");
    },

    async _updatePreview() {
        const sequence = ++this._previewSequence;
        this._lastPreviewKey = this._previewKey();
        const params = {
            invoice_ids: this._getValue("invoice_ids"),
            plan_kind: this._getValue("plan_kind"),
            installment_count: this._getValue("installment_count"),
            day_of_month: this._getValue("day_of_month"),
            first_date: this._getValue("first_date"),
        };
        const accessToken = this._getValue("access_token");
        if (accessToken) {
            params.access_token = accessToken;
        }
        const section = this.el.querySelector(".o_account_payment_collection_preview");
        section.setAttribute("aria-busy", "true");
        let result;
        try {
            result = await rpc(PREVIEW_ROUTE, params, {silent: true});
        } catch {
            result = {
                error: _t(
                    "The schedule cannot be computed right now. Please try again."
                ),
            };
        }
        if (sequence !== this._previewSequence) {
            return; // A newer preview is on its way.
        }
        section.removeAttribute("aria-busy");
        this._renderPreview(result);
    },

    /**
     * @param {Object} result what the server returned: `error`, or
     *  `installments` (`date_iso`, `date`, `amount`, all formatted), `total`
     *  and `note` (when the installments fall)
     */
    _renderPreview(result) {
        const errorEl = this.el.querySelector(
            ".o_account_payment_collection_preview_error"
        );
        const tableEl = this.el.querySelector(
            ".o_account_payment_collection_preview_table"
        );
        const tbody = tableEl.querySelector("tbody");
        const totalEl = tableEl.querySelector(
            ".o_account_payment_collection_preview_total"
        );
        const noteEl = this.el.querySelector(".o_account_payment_collection_preview_note");
        // textContent: what the server says is shown as text, never as HTML.
        noteEl.textContent = (!result.error && result.note) || "";
        noteEl.classList.toggle("d-none", !noteEl.textContent);
        if (result.error) {
            errorEl.textContent = result.error;
            errorEl.classList.remove("d-none");
            tableEl.classList.add("d-none");
            tbody.replaceChildren();
            totalEl.textContent = "";
            return;
        }
        errorEl.textContent = "";
        errorEl.classList.add("d-none");
        const rows = (result.installments || []).map((line, index) => {
            const row = document.createElement("tr");
            row.dataset.date = line.date_iso;
            for (const [text, className] of [
                [String(index + 1), ""],
                [line.date, ""],
                [line.amount, "text-end"],
            ]) {
                const cell = document.createElement("td");
                if (className) {
                    cell.className = className;
                }
                cell.textContent = text;
                row.appendChild(cell);
            }
            return row;
        });
        tbody.replaceChildren(...rows);
        totalEl.textContent = result.total || "";
        tableEl.classList.remove("d-none");
    },
});

/**
 * The invoices list: the "Request a payment plan" button is enabled once at
 * least one invoice is ticked.
 */
publicWidget.registry.CollectionPaymentPlanSelection = publicWidget.Widget.extend({
    selector: "form.o_account_payment_collection_plan_select",

    start() {
        this._onChange = this._onChange.bind(this);
        // The checkboxes are in the table, tied to this form by their `form`
        // attribute: `elements` lists them.
        this._checkboxes = [...this.el.elements].filter(
            (element) => element.name === "invoice_ids"
        );
        for (const checkbox of this._checkboxes) {
            checkbox.addEventListener("change", this._onChange);
        }
        this._onChange();
        return this._super(...arguments);
    },

    destroy() {
        for (const checkbox of this._checkboxes || []) {
            checkbox.removeEventListener("change", this._onChange);
        }
        this._super(...arguments);
    },

    _onChange() {
        const button = this.el.querySelector("button[type=submit]");
        const checked = this._checkboxes.filter((checkbox) => checkbox.checked);
        button.disabled = !checked.length;
        button.title = checked.length
            ? ""
            : _t("Tick the invoices to put in the payment plan.");
    },
});
