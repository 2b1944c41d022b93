# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pure helpers, without Odoo imports."""

import calendar
from datetime import timedelta


class _PlanWorkflow:
    """The mark of the payment plan workflow's own writes in a context. Being a
    Python object, no context sent by a client (JSON or XML) can carry it."""

    __slots__ = ()

    def __repr__(self):
        return "<payment plan workflow>"


PLAN_WORKFLOW = _PlanWorkflow()


def add_months_on_day(start, months, day):
    """Return the date ``months`` months after ``start``'s month, on ``day``, or on
    the last day of that month when it is shorter (29-31 → 28, 29 or 30)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return start.replace(year=year, month=month, day=min(day, last_day))


def plan_dates(kind, count, first_date, day_of_month=None):
    """Return the due dates of a payment plan.

    :param str kind: ``deferred`` (one date), ``weekly`` or ``monthly``
    :param int count: number of installments (1 for ``deferred``)
    :param date first_date: the deferred date, or the first possible date
    :param int day_of_month: for ``monthly``, the day of each installment; the
        first installment falls on the first such day on or after ``first_date``
    :rtype: list
    """
    if kind == "deferred":
        return [first_date]
    if kind == "weekly":
        return [first_date + timedelta(weeks=index) for index in range(count)]
    day = day_of_month or first_date.day
    offset = 0 if add_months_on_day(first_date, 0, day) >= first_date else 1
    return [
        add_months_on_day(first_date, offset + index, day) for index in range(count)
    ]


def split_amount(total, count, decimal_places):
    """Split ``total`` into ``count`` amounts to the smallest currency unit; the
    remainder goes to the last amount, so that they always add up to ``total``."""
    factor = 10**decimal_places
    total_units = round(total * factor)
    base, remainder = divmod(total_units, count)
    units = [base] * count
    units[-1] += remainder
    return [unit / factor for unit in units]


class CollectionUnknownOutcome(Exception):
    """Raised by provider code when a debit's request got no answer (timeout,
    lost connection, server error after the SDK's own retries): the provider may
    or may not have debited, so the debit is neither failed nor sent again with a
    new key; it is sent again as it is (same reference, same idempotency key) and
    the provider answers with the original result."""
