# Copyright 2026 Account Payment Collection contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Payment Collection",
    "summary": "Know how each customer pays, send the right payment instructions, "
    "collect automatically from saved cards and mandates",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "Account Payment Collection contributors",
    "license": "LGPL-3",
    "depends": ["account_payment", "sale", "sms", "payment_stripe"],
    "external_dependencies": {"python": ["stripe", "gocardless_pro"]},
    "data": [
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/account_payment_method_line_views.xml",
        "views/account_journal_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_views.xml",
        "views/res_config_settings_views.xml",
        "report/account_move_report.xml",
    ],
    "demo": ["demo/collection_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "account_payment_collection/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
}
