/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Created by tests/test_online_fees_tour.py: two online payments of the customer
// confirmed by the provider (150.00 with a fee of 2.50, 60.00 without fee),
// waiting for their integration.
const CUSTOMER = "Boulangerie Martin";

registry.category("web_tour.tours").add("account_payment_collection_online_payments", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("account.menu_finance", "Open Invoicing"),
        {
            content: "Open the Customers menu",
            trigger: ".o_main_navbar [data-menu-xmlid='account.menu_finance_receivables']",
            run: "click",
        },
        {
            content: "Open the online payments",
            trigger:
                ".o-dropdown--menu [data-menu-xmlid='account_payment_collection.payment_transaction_menu_collection']",
            run: "click",
        },
        {
            content: "The screen opens on the payments to integrate",
            trigger: ".o_searchview_facet:contains(To integrate)",
        },
        {
            content: "The first payment, with its gross, fee and net",
            trigger: `.o_list_view .o_data_row:has(td[name=partner_id]:contains(${CUSTOMER})):has(td[name=amount]:contains(150.00)):has(td[name=collection_fee_amount]:contains(2.50)):has(td[name=collection_net_amount]:contains(147.50))`,
        },
        {
            content: "The second payment waits too",
            trigger:
                ".o_list_view .o_data_row:nth-child(2) td[name=collection_integration_state]:contains(To integrate)",
        },
        {
            trigger: ".o_list_view tbody:not(:has(.o_data_row:nth-child(3)))",
        },
        {
            content: "Select all the payments to integrate",
            trigger: ".o_list_view thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Integrate them",
            trigger: ".o_control_panel button.o_collection_integrate",
            run: "click",
        },
        {
            content: "Both are integrated",
            trigger: ".o_notification:contains(2 online payment(s) integrated)",
        },
        {
            content: "None is left to integrate",
            trigger: ".o_list_view:not(:has(.o_data_row))",
        },
        {
            content: "Show the integrated payments instead",
            trigger: ".o_searchview_facet:contains(To integrate) .o_facet_remove",
            run: "click",
        },
        {
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .o_menu_item:contains(Integrated)",
            run: "click",
        },
        {
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "The integrated payments with their entries",
            trigger:
                ".o_list_view .o_data_row:has(td[name=collection_integration_state]:contains(Integrated)) td[name=payment_id]:not(:empty)",
        },
        {
            trigger:
                ".o_list_view .o_data_row:nth-child(2) td[name=collection_integration_state]:contains(Integrated)",
        },
    ],
});
