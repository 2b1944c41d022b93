# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import test_offline_methods
from . import test_partner_collection
from . import test_invoice_sending
from . import test_automatic_collection
from . import test_access
from . import test_tour
from . import test_translations
from . import test_plan_workflow
from . import test_plan_backoffice
from . import test_reminders
from . import test_plan_portal
from . import test_plan_mails
from . import test_portal_bad_input
from . import test_plan_concurrency
from . import test_holds
from . import test_plan_review
