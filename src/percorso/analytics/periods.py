"""Calendar periods (day, ISO week, month) as integers, the same on every engine.

An analysis that counts "period k after the cohort" or "the previous period"
needs arithmetic on periods. Numbering them makes that an integer subtraction
that DuckDB and Spark agree on (both truncate weeks to Monday, in UTC), and
the numbers turn back into the period's first day in Python:

    day    days since 1970-01-01
    week   weeks since Monday 1970-01-05 (ISO weeks start on Monday)
    month  year * 12 + month - 1
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

import ibis
import ibis.expr.types as ir

Period = Literal["day", "week", "month"]

_EPOCH = date(1970, 1, 1)
_FIRST_MONDAY = date(1970, 1, 5)


def index(ts: ir.TimestampValue, period: Period) -> ir.IntegerValue:
    """The number of the period `ts` (naive UTC) falls in."""
    if period == "month":
        return (ts.year() * 12 + ts.month() - 1).cast("int64")
    # Days from a date: a cast and a subtraction, exact before 1970 on both engines
    # (Spark's epoch seconds round towards zero), and cheaper than a date_trunc per event.
    if period == "week":
        return (ts.date().delta(ibis.date(_FIRST_MONDAY), unit="day") // 7).cast("int64")
    return ts.date().delta(ibis.date(_EPOCH), unit="day").cast("int64")


def index_of(moment: datetime | date, period: Period) -> int:
    """`index` of a Python moment."""
    day = moment.date() if isinstance(moment, datetime) else moment
    if period == "month":
        return day.year * 12 + day.month - 1
    if period == "week":
        return (day - _FIRST_MONDAY).days // 7
    return (day - _EPOCH).days


def start(number: int, period: Period) -> date:
    """The first day of the period numbered `number`."""
    if period == "month":
        return date(number // 12, number % 12 + 1, 1)
    if period == "week":
        return _FIRST_MONDAY + timedelta(weeks=number)
    return _EPOCH + timedelta(days=number)
