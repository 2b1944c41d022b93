/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import {registry} from "@web/core/registry";

// Started by tests/test_registration_tour.py.

// The accountant, on the form of a customer who pays by cheque, switches them
// to automatic collection and sends them the registration link by e-mail.
registry
    .category("web_tour.tours")
    .add("account_payment_collection_send_registration_link", {
        steps: () => [
            {
                content: "Switch the customer to automatic collection",
                trigger: ".o_field_widget[name=collection_mode] input[data-value=automatic]",
                run: "click",
            },
            {
                content: "No saved card or mandate yet: registration pending",
                trigger: ".o_account_payment_collection_registration_pending:visible",
            },
            {
                content: "Send the registration link by e-mail",
                trigger: "button[name=action_collection_send_registration_link]:contains(Send Registration Link)",
                run: "click",
            },
            {
                content: "Odoo says the link was sent",
                trigger: ".o_notification:contains(Registration link sent.)",
            },
        ],
    });

// The customer opens the link on a phone and chooses a card: the page sends
// them to the provider's secure page.
registry
    .category("web_tour.tours")
    .add("account_payment_collection_registration_phone", {
        steps: () => [
            {
                content: "The page says who asks and that nothing is charged",
                trigger: ".o_account_payment_collection_registration:contains(Nothing is charged now)",
            },
            {
                content: "The provider's secure page is named",
                trigger: ".o_account_payment_collection_registration_option:contains(Card):contains(Stripe)",
            },
            {
                content: "Choose the card",
                trigger: ".o_account_payment_collection_registration_option:contains(Card) button",
                run() {
                    // The customer's browser goes to the provider's page (on
                    // another host). The tour follows it in a frame, so that it
                    // keeps running on this page.
                    const frame = document.createElement("iframe");
                    frame.name = "o_apc_provider_page";
                    frame.addEventListener("load", () => {
                        // Only the provider's page, on another origin, hides
                        // its document from this page.
                        let otherOrigin = false;
                        try {
                            otherOrigin = !frame.contentDocument;
                        } catch {
                            otherOrigin = true;
                        }
                        if (otherOrigin) {
                            frame.classList.add("o_apc_provider_page_loaded");
                        }
                    });
                    document.body.appendChild(frame);
                    this.anchor.closest("form").target = frame.name;
                    this.anchor.click();
                },
            },
            {
                content: "The provider's page opened",
                trigger: "iframe.o_apc_provider_page_loaded",
            },
        ],
    });

// Back from the provider's page, the customer sees their saved card.
registry
    .category("web_tour.tours")
    .add("account_payment_collection_registration_confirmed", {
        steps: () => [
            {
                content: "The card is saved",
                trigger: ".o_account_payment_collection_registration_confirmation:contains(Thank you!):contains(4242)",
            },
        ],
    });
