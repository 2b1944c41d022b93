# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import collection_plan_adjust
from . import collection_plan_reason
from . import collection_reminder_preview
from . import payment_link_wizard
from . import collection_wallet_refund
