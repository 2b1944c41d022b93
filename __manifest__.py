# Copyright 2026 Account Payment Collection contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Payment Collection",
    "summary": "Know how each customer pays, send the right payment instructions, "
    "collect automatically from saved cards and mandates",
    "version": "18.0.1.1.0",
    "category": "Accounting/Accounting",
    "author": "Account Payment Collection contributors",
    "license": "LGPL-3",
    "depends": ["account_payment", "sale", "sms", "payment_stripe"],
    "external_dependencies": {"python": ["stripe", "gocardless_pro"]},
    "data": [
        "security/ir.model.access.csv",
        "security/collection_plan_security.xml",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "data/sms_template_data.xml",
        "data/collection_reminder_data.xml",
        "views/account_payment_method_line_views.xml",
        "views/account_journal_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_views.xml",
        "views/collection_plan_views.xml",
        "views/collection_reminder_level_views.xml",
        "views/res_config_settings_views.xml",
        "views/collection_plan_portal_templates.xml",
        "wizards/collection_plan_adjust_views.xml",
        "wizards/collection_plan_reason_views.xml",
        "wizards/collection_reminder_preview_views.xml",
        "report/account_move_report.xml",
    ],
    "demo": ["demo/collection_demo.xml"],
    "assets": {
        "web.assets_backend": [
            "account_payment_collection/static/src/js/text_placeholder_field.*",
        ],
        "web.assets_frontend": [
            "account_payment_collection/static/src/js/payment_plan_form.js",
        ],
        "web.assets_tests": [
            "account_payment_collection/static/tests/tours/*.js",
        ],
    },
    "pre_init_hook": "pre_init_hook",
    "post_init_hook": "post_init_hook",
}
