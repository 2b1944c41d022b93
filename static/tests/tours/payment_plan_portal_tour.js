/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import {registry} from "@web/core/registry";

// Started by tests/test_plan_portal.py on the page of an unpaid invoice of
// 300.00 (no `url`: the test opens that invoice), as the customer (portal
// user), on 2026-11-20.
const PREVIEW = ".o_account_payment_collection_preview_table";
const NOTE = ".o_account_payment_collection_preview_note";

function setDateInput(input, value) {
    // Typing into a date input is not portable: set its value as the date
    // picker does, then tell the page.
    input.value = value;
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
}

registry
    .category("web_tour.tours")
    .add("account_payment_collection_payment_plan_portal", {
        steps: () => [
            {
                content: "Ask for a payment plan from the invoice",
                trigger: "a.o_account_payment_collection_request_plan",
                run: "click",
            },
            {
                content: "The form shows the invoice and what it still owes",
                trigger: ".o_account_payment_collection_plan_total:contains(300.00)",
            },
            {
                content: "The server computed a first schedule",
                trigger: `${PREVIEW} tbody tr[data-date='2026-11-27']`,
            },
            {
                content: "... and says when the installments fall",
                trigger: `${NOTE}:contains(First installment on 11/27/2026, then on the 27th of each month.)`,
            },
            {
                content: "One deferred payment hides the installment fields",
                trigger: "input[name=plan_kind][value=deferred]",
                run: "click",
            },
            {
                trigger: ".o_account_payment_collection_field_day.d-none:not(:visible)",
            },
            {
                content: "The preview shows one payment",
                trigger: `${PREVIEW} tbody:not(:has(tr:nth-child(2))) tr[data-date='2026-11-27']:contains(300.00)`,
            },
            {
                content: "Choose monthly installments",
                trigger: "input[name=plan_kind][value=monthly]",
                run: "click",
            },
            {
                content: "Three installments",
                trigger:
                    ".o_account_payment_collection_field_count:not(.d-none) input[name=installment_count]",
                run: "edit 3",
            },
            {
                content: "Starting in December",
                trigger: "input[name=first_date]",
                run() {
                    setDateInput(this.anchor, "2026-12-01");
                },
            },
            {
                content: "The day of the month follows the first date",
                trigger: "input[name=day_of_month]:value(1)",
            },
            {
                trigger: `${NOTE}:contains(First installment on 12/01/2026, then on the 1st of each month.)`,
            },
            {
                content: "On the 15th of each month",
                trigger:
                    ".o_account_payment_collection_field_day:not(.d-none) input[name=day_of_month]",
                run: "edit 15",
            },
            {
                content: "Say why (leaving the day of the month)",
                trigger: "textarea[name=reason]",
                run: "edit Our busiest season is over.",
            },
            {
                content: "The first date follows the day, in the same month",
                trigger: "input[name=first_date]:value(2026-12-15)",
            },
            {
                content: "The preview is updated by the server",
                trigger: `${PREVIEW} tbody tr[data-date='2026-12-15']:contains(100.00)`,
            },
            {
                trigger: `${NOTE}:contains(First installment on 12/15/2026, then on the 15th of each month.)`,
            },
            {
                trigger: `${PREVIEW} tbody tr[data-date='2027-02-15']:contains(100.00)`,
            },
            {
                content: "Three installments, no more",
                trigger: `${PREVIEW} tbody:not(:has(tr:nth-child(4)))`,
            },
            {
                trigger: `${PREVIEW} .o_account_payment_collection_preview_total:contains(300.00)`,
            },
            {
                content: "Send the proposal",
                trigger: "button.o_account_payment_collection_plan_submit",
                run: "click",
            },
            {
                content: "The proposal is acknowledged",
                trigger: ".o_account_payment_collection_plan_confirmation",
            },
            {
                content: "The plan page shows the proposal under review",
                trigger:
                    ".o_account_payment_collection_plan_state[data-state=proposed]",
            },
            {
                content: "... and its schedule",
                trigger:
                    ".o_account_payment_collection_schedule tr.o_account_payment_collection_installment[data-date='2027-02-15']",
            },
        ],
    });
