# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import account_payment_method_line
from . import res_company
from . import account_chart_template
from . import res_partner
from . import account_move
from . import account_move_line
from . import account_partial_reconcile
from . import account_move_send
from . import payment_transaction
from . import res_config_settings
from . import mail_thread
from . import collection_plan
from . import collection_plan_installment
from . import collection_plan_invoice
from . import collection_reminder_level
from . import collection_reminder_log
from . import ir_module_module
