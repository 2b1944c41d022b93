/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import {registry} from "@web/core/registry";

// Started by tests/test_pay_button.py: the customer follows the Pay online
// button of the invoice e-mail, pays with their saved card (demo provider)
// and sees the invoice paid.
registry.category("web_tour.tours").add("account_payment_collection_invoice_pay_button", {
    steps: () => [
        {
            content: "The payment form opens at once, for what is due",
            trigger: "#pay_with .o_payment_form",
        },
        {
            content: "The customer's saved card is offered",
            trigger: "#pay_with .o_payment_option_label:contains(Card 4242), #pay_with :contains(Card 4242)",
        },
        {
            content: "Pay",
            trigger: "#pay_with button[name=o_payment_submit_button]:enabled",
            run: "click",
        },
        {
            content: "Back on the invoice: it is paid",
            trigger: ".badge:contains(Paid)",
            timeout: 20000,
        },
    ],
});
