# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import portal
from . import payment
from . import registration
from . import gocardless
from . import stripe
from . import link
from . import wallet
from . import sale_deposit
from . import invoice_payment
