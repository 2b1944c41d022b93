/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Created by tests/test_tour.py.
const CUSTOMER = "Tour Cheque Customer";
const PRODUCT = "Tour Cheque Service";

registry.category("web_tour.tours").add("account_payment_collection_offline_cheque", {
    url: "/odoo/action-account.res_partner_action_customer",
    steps: () => [
        // Invoicing > Customers > Customers
        ...stepUtils.goToAppSteps("account.menu_finance", "Open Invoicing"),
        {
            content: "Open the Customers menu",
            trigger: ".o_main_navbar [data-menu-xmlid='account.menu_finance_receivables']",
            run: "click",
        },
        {
            content: "Open the customers",
            trigger: ".o-dropdown--menu [data-menu-xmlid='account.menu_account_customer']",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .active:contains(Customers)",
        },
        {
            content: "Switch to the list view",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "Look for the customer",
            trigger: ".o_list_view .o_searchview_input",
            run: `edit ${CUSTOMER}`,
        },
        {
            trigger: ".o_list_view .o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Open the customer",
            trigger: `.o_list_view .o_data_row td.o_data_cell:contains(${CUSTOMER})`,
            run: "click",
        },
        // Payment block: offline, by cheque
        {
            trigger: `.o_form_view .o_field_widget[name=name] input:value(${CUSTOMER})`,
        },
        {
            content: "The customer pays offline",
            trigger:
                ".o_form_view .o_field_widget[name=collection_mode] input[data-value=offline]:enabled",
            run: "click",
        },
        {
            content: "Choose how: by cheque",
            trigger: ".o_form_view .o_field_widget[name=property_inbound_payment_method_line_id] input",
            run: "edit Cheque",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(Cheque)",
            run: "click",
        },
        {
            trigger:
                ".o_form_view .o_field_widget[name=property_inbound_payment_method_line_id] input:value(Cheque)",
        },
        ...stepUtils.saveForm(),
        {
            content: "The form shows what an offline customer's invoices contain",
            trigger: ".o_form_view .o_account_payment_collection_hint:contains(never debited)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=collection_mode] input[data-value=offline]:checked",
        },
        // Invoicing > Customers > Invoices: a new invoice for that customer
        {
            content: "Open the Customers menu",
            trigger: ".o_main_navbar [data-menu-xmlid='account.menu_finance_receivables']",
            run: "click",
        },
        {
            content: "Open the invoices",
            trigger:
                ".o-dropdown--menu [data-menu-xmlid='account.menu_action_move_out_invoice_type']",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .active:contains(Invoices)",
        },
        {
            content: "Create an invoice",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "Set the customer",
            trigger: ".o_form_view .o_field_widget[name=partner_id] input",
            run: `edit ${CUSTOMER}`,
        },
        {
            trigger: `.o-autocomplete--dropdown-item a:contains(${CUSTOMER})`,
            run: "click",
        },
        {
            trigger: `.o_form_view .o_field_widget[name=partner_id] input:value(${CUSTOMER})`,
        },
        {
            content: "Add a line",
            trigger:
                ".o_form_view div[name=invoice_line_ids] .o_field_x2many_list_row_add a:contains(Add a line)",
            run: "click",
        },
        {
            content: "Choose the product",
            trigger:
                ".o_form_view div[name=invoice_line_ids] .o_selected_row .o_list_many2one[name=product_id] input",
            run: `edit ${PRODUCT}`,
        },
        {
            trigger: `.o-autocomplete--dropdown-item a:contains(${PRODUCT})`,
            run: "click",
        },
        {
            trigger: ".o_form_view div[name=invoice_line_ids] .o_data_row [name=price_subtotal]:contains(250.00)",
        },
        ...stepUtils.saveForm(),
        {
            content: "Confirm the invoice",
            trigger: ".o_form_view .o_form_statusbar button[name=action_post]",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Posted)",
        },
        {
            content: "Register the payment",
            trigger: ".o_form_view .o_form_statusbar button[name=action_register_payment]:enabled",
            run: "click",
        },
        {
            content: "The cheque method is pre-selected",
            trigger:
                ".modal .o_field_widget[name=payment_method_line_id] input:value(Cheque)",
        },
        {
            trigger: ".modal .o_field_widget[name=journal_id] input:value(Bank)",
        },
        {
            content: "Create the payment",
            trigger: ".modal button[name=action_create_payments]",
            run: "click",
        },
        {
            content: "The invoice is paid",
            trigger: "body:not(:has(.modal)) .o_form_view .o_widget_web_ribbon .ribbon span:contains(Paid)",
        },
        {
            content: "Nothing is left to pay",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_register_payment]))",
        },
    ],
});
