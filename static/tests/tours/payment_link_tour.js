/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import {registry} from "@web/core/registry";

// Started by tests/test_payment_link_tour.py.

// The salesperson, on an order taken by phone, requests a 30% deposit and
// sends the link to the customer's mobile by SMS.
registry.category("web_tour.tours").add("account_payment_collection_deposit_by_sms", {
    steps: () => [
        {
            content: "Request a deposit on the order",
            trigger: "button[name=action_collection_request_deposit]:contains(Request a Deposit)",
            run: "click",
        },
        {
            content: "The wizard knows it is a deposit",
            trigger: ".modal .o_field_widget[name=collection_link_purpose]:contains(Order Deposit)",
        },
        {
            content: "Ask for 30% of the order",
            trigger: ".modal .o_field_widget[name=collection_deposit_percent] input",
            run: "edit 30 && press Tab",
        },
        {
            content: "The amount follows",
            trigger: ".modal .o_field_widget[name=amount] input:value(90.00)",
        },
        {
            content: "Send it by SMS",
            trigger: ".modal .o_field_widget[name=collection_channel] input[data-value=sms]",
            run: "click",
        },
        {
            content: "The customer's mobile is filled in",
            trigger: ".modal .o_field_widget[name=collection_mobile] input:value(+33 6 12 34 56 78)",
        },
        {
            content: "Send",
            trigger: ".modal button[name=action_collection_send]",
            run: "click",
        },
        {
            content: "Odoo says the link was sent",
            trigger: ".o_notification:contains(Payment link sent to +33612345678)",
        },
    ],
});

// The customer opens a wallet top-up link on a phone, pays with the demo
// provider and sees the confirmation.
registry.category("web_tour.tours").add("account_payment_collection_wallet_top_up_phone", {
    steps: () => [
        {
            content: "The page says what is paid",
            trigger: ".o_account_payment_collection_link h2:contains(Top up your wallet)",
        },
        {
            content: "The amount is the link's",
            trigger: ".o_account_payment_collection_link_amount:contains(50.00)",
        },
        {
            content: "Choose the (demo) card",
            trigger: "input[name=o_payment_radio][data-payment-method-code=demo]",
            run: "click",
        },
        {
            content: "Enter the (test) card details",
            trigger: "#customer_input",
            run: "edit 4242",
        },
        {
            content: "Pay",
            trigger: "button[name=o_payment_submit_button]:enabled",
            run: "click",
        },
        {
            content: "Back on the link: it is paid and the wallet credited",
            trigger: ".o_account_payment_collection_link_paid:contains(Your wallet is credited.)",
            timeout: 20000,
        },
    ],
});
