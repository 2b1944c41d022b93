/** @odoo-module */
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Created by tests/test_plan_backoffice.py: a monthly plan of three installments
// (100.00, 100.00, 100.01) proposed by this customer for two invoices.
const CUSTOMER = "Boulangerie Martin";

registry.category("web_tour.tours").add("account_payment_collection_plan_backoffice", {
    url: "/odoo",
    steps: () => [
        // Invoicing > Customers > Invoices, filtered on the blocking reason
        ...stepUtils.goToAppSteps("account.menu_finance", "Open Invoicing"),
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
            content: "Open the filters",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Filter on the blocking reason: payment plan proposed",
            trigger: ".o_filter_menu .o_menu_item:contains(Payment plan proposed)",
            run: "click",
        },
        {
            trigger: ".o_searchview_facet:contains(Payment plan proposed)",
        },
        {
            content: "Close the filters",
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Only the customer's two blocked invoices are listed",
            trigger:
                ".o_list_view .o_data_row:nth-child(2) td[name=collection_block_reason]:contains(Payment plan proposed)",
        },
        {
            trigger: ".o_list_view tbody:not(:has(.o_data_row:nth-child(3)))",
        },
        {
            content: "Open the first blocked invoice",
            trigger: `.o_list_view .o_data_row:nth-child(1) td.o_data_cell:contains(${CUSTOMER})`,
            run: "click",
        },
        // The invoice shows the proposal
        {
            content: "The invoice is blocked by the plan, which the accountant cannot change",
            trigger:
                ".o_form_view .o_field_widget[name=collection_block_reason].o_readonly_modifier:contains(Payment plan proposed)",
        },
        {
            content: "A smart button leads to the plan",
            trigger:
                ".o-form-buttonbox button[name=action_view_collection_plan]:contains(Proposed)",
        },
        {
            content: "The banner says a plan was proposed: show it",
            trigger:
                ".o_form_view .o_account_payment_collection_plan_alert:contains(A payment plan was proposed) button[name=action_view_collection_plan]",
            run: "click",
        },
        // The proposal, with its detailed schedule
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Proposed)",
        },
        {
            trigger: `.o_form_view .o_field_widget[name=partner_id]:contains(${CUSTOMER})`,
        },
        {
            trigger: ".o_form_view .o_field_widget[name=plan_kind]:contains(Monthly installments)",
        },
        {
            content: "Three installments, the remainder on the last one",
            trigger:
                ".o_form_view div[name=installment_ids] .o_data_row:nth-child(1) td[name=amount]:contains(100.00)",
        },
        {
            trigger:
                ".o_form_view div[name=installment_ids] .o_data_row:nth-child(3) td[name=amount]:contains(100.01)",
        },
        {
            trigger:
                ".o_form_view div[name=installment_ids] .o_data_row:nth-child(3) td[name=state]:contains(Planned)",
        },
        {
            trigger: ".o_form_view div[name=installment_ids] tbody:not(:has(.o_data_row:nth-child(4)))",
        },
        {
            content: "Look at the invoices of the plan",
            trigger: ".o_form_view .o_notebook .nav-link:contains(Invoices)",
            run: "click",
        },
        {
            trigger: ".o_form_view div[name=invoice_link_ids] .o_data_row:nth-child(2)",
        },
        {
            content: "Approve the plan",
            trigger: ".o_form_view .o_form_statusbar button[name=action_approve]",
            run: "click",
        },
        {
            content: "The plan is active",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Active)",
        },
        {
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_approve]))",
        },
        {
            trigger: ".o_form_view .o_notebook .nav-link:contains(Schedule)",
            run: "click",
        },
        {
            content: "The installments are scheduled",
            trigger:
                ".o_form_view div[name=installment_ids] .o_data_row:nth-child(1) td[name=state]:not(:contains(Planned))",
        },
        // Back on the invoice
        {
            content: "Back to the invoice",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('INV/')",
            run: "click",
        },
        {
            content: "The invoice is now paid through the approved plan",
            trigger:
                ".o_form_view .o_account_payment_collection_plan_alert:contains(approved payment plan)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=collection_block_reason]:contains(Payment plan active)",
        },
        {
            trigger: ".o-form-buttonbox button[name=action_view_collection_plan]:contains(Active)",
        },
        // Invoicing > Customers > Payment Plans
        {
            content: "Open the Customers menu",
            trigger: ".o_main_navbar [data-menu-xmlid='account.menu_finance_receivables']",
            run: "click",
        },
        {
            content: "Open the payment plans",
            trigger:
                ".o-dropdown--menu [data-menu-xmlid='account_payment_collection.collection_plan_menu']",
            run: "click",
        },
        {
            content: "The plan is listed as active",
            trigger: `.o_list_view .o_data_row:contains(${CUSTOMER}) td[name=state]:contains(Active)`,
        },
        {
            content: "Switch to the kanban view",
            trigger: ".o_control_panel .o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "The plan is in the Active column",
            trigger: `.o_kanban_view .o_kanban_group:has(.o_column_title:contains(Active)) .o_kanban_record:contains(${CUSTOMER})`,
        },
    ],
});
