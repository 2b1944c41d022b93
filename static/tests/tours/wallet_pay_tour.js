/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import {registry} from "@web/core/registry";

// Started by tests/test_wallet_portal.py on the page of an open invoice of
// 100.00 (no `url`: the test opens it), as the customer (portal user) whose
// wallet holds 60.00, on a phone (375x667).
registry.category("web_tour.tours").add("account_payment_collection_wallet_pay", {
    steps: () => [
        {
            content: "The invoice page says what the wallet pays",
            trigger: ".o_account_payment_collection_wallet_pay:contains(60.00)",
        },
        {
            content: "Pay with the wallet",
            trigger: "button.o_account_payment_collection_wallet_pay_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The invoice page confirms, with what is left to pay",
            trigger:
                ".o_account_payment_collection_wallet_notice.alert-success:contains(40.00 is left to pay)",
        },
        {
            content: "The wallet is empty: no more wallet button",
            trigger:
                "body:not(:has(.o_account_payment_collection_wallet_pay_button))",
        },
        {
            content: "Open the wallet page",
            trigger: "body",
            run: () => {
                window.location.href = "/my/wallet";
            },
            expectUnloadPage: true,
        },
        {
            content: "The wallet page lists the payment of the invoice",
            trigger:
                ".o_account_payment_collection_wallet_row:contains(Invoice payment):contains(60.00)",
        },
    ],
});
