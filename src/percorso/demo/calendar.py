"""The demo company's clock: 18 months of Italian working days, evenings and seasons.

Everything is anchored on a fixed reference date, never on "now", so the same
seed gives the same timestamps on any day it is run. Times are computed in
Rome's local time (office hours, evening browsing) and stored as naive UTC
microseconds, as the warehouse wants them.
"""

from __future__ import annotations

import bisect
import random
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Literal

START = date(2025, 5, 1)
REFERENCE = date(2026, 10, 31)
"""The demo's "today": the last day of history."""

DAYS = (REFERENCE - START).days + 1
MARGIN_DAYS = 14
"""Days after the reference date that may hold a `received_at` (nightly ERP export)."""

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

Rhythm = Literal["b2c", "b2b"]


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def rome_utc_offset(day: date) -> int:
    """Hours Rome is ahead of UTC on that day (EU summer time: last Sunday of March to October)."""
    return 2 if _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10) else 1


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _midnight_utc(day: date) -> int:
    local_midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    shifted = local_midnight - timedelta(hours=rome_utc_offset(day))
    return (shifted - _EPOCH) // timedelta(microseconds=1)


DATES: tuple[date, ...] = tuple(START + timedelta(days=d) for d in range(DAYS + MARGIN_DAYS))
MIDNIGHTS: tuple[int, ...] = tuple(_midnight_utc(d) for d in DATES)
"""UTC microseconds of each day's local midnight."""
WEEKDAY: tuple[int, ...] = tuple(d.weekday() for d in DATES)
END = MIDNIGHTS[DAYS]
"""First microsecond after the reference date (local midnight): nothing happens from here on."""

# Italian public holidays in the window: offices and the warehouse are closed.
HOLIDAYS = frozenset(
    {
        date(2025, 6, 2),
        date(2025, 8, 15),
        date(2025, 11, 1),
        date(2025, 12, 8),
        date(2025, 12, 25),
        date(2025, 12, 26),
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 4, 6),
        date(2026, 4, 25),
        date(2026, 5, 1),
        date(2026, 6, 2),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 2),
    }
)
WORKDAY: tuple[bool, ...] = tuple(d.weekday() < 5 and d not in HOLIDAYS for d in DATES)


def at(day: int, hour: float) -> int:
    """UTC microseconds of a local hour (0-24, fractional) on a day of the window.

    Days past the window's margin are extrapolated: they only ever serve to
    say "after the end of history".
    """
    if day >= len(MIDNIGHTS):
        return MIDNIGHTS[-1] + (day - len(MIDNIGHTS) + 1) * DAY + int(hour * HOUR)
    return MIDNIGHTS[day] + int(hour * HOUR)


def day_of(moment: int) -> int:
    """The window's day index a UTC moment falls on, in local time."""
    return max(0, bisect.bisect_right(MIDNIGHTS, moment) - 1)


def local_hour(moment: int) -> float:
    return (moment - MIDNIGHTS[day_of(moment)]) / HOUR


def next_workday(day: int) -> int:
    """The same day if offices are open, else the next open one."""
    while day < len(WORKDAY) - 1 and not WORKDAY[day]:
        day += 1
    return day


def _season(day: date, rhythm: Rhythm) -> float:
    """How busy a day is compared with an ordinary one."""
    if day.month == 12 and day.day <= 22:
        return 1.8 if rhythm == "b2c" else 1.1  # Christmas gifts
    if day.month == 11 and day.day >= 24:
        return 1.6 if rhythm == "b2c" else 1.0  # Black Friday week
    if day.month == 8:
        return 0.6 if rhythm == "b2c" else 0.3  # Ferragosto: Italy is on holiday
    if day.month == 9:
        return 1.15 if rhythm == "b2c" else 1.3  # back to the office
    if day.month in (12, 1):
        return 0.8
    return 1.0


def _weight(index: int, rhythm: Rhythm) -> float:
    growth = 0.65 + 0.7 * index / DAYS  # the business grows over the window
    # Consumers browse a little more at weekends; offices work on working days.
    b2c_week = 1.15 if WEEKDAY[index] >= 5 else 1.0
    week = b2c_week if rhythm == "b2c" else (1.0 if WORKDAY[index] else 0.12)
    return growth * _season(DATES[index], rhythm) * week


CUMULATIVE: dict[Rhythm, list[float]] = {
    rhythm: list(accumulate(_weight(d, rhythm) for d in range(DAYS))) for rhythm in ("b2c", "b2b")
}
"""Cumulative day weights: where new people arrive, and when one-off things happen."""


def arrival_day(rng: random.Random, rhythm: Rhythm, first: int = 0, last: int = DAYS - 1) -> int:
    """A day in [first, last] drawn with the company's growth, seasons and weekly rhythm."""
    if first >= last:
        return min(first, DAYS - 1)
    weights = CUMULATIVE[rhythm]
    low = weights[first - 1] if first > 0 else 0.0
    point = low + rng.random() * (weights[last] - low)
    return min(bisect.bisect_left(weights, point, first, last + 1), last)


def evening_hour(rng: random.Random) -> float:
    """When consumers browse: a big evening peak, a lunch break, some of the rest of the day."""
    pick = rng.random()
    if pick < 0.45:
        hour = rng.gauss(21.0, 1.3)
    elif pick < 0.65:
        hour = rng.gauss(13.2, 0.8)
    else:
        hour = rng.uniform(7.0, 23.5)
    return min(max(hour, 6.5), 23.95)


def office_hour(rng: random.Random) -> float:
    """Office hours, thinner at lunch."""
    hour = rng.uniform(8.5, 18.25)
    if 13.0 <= hour < 14.0 and rng.random() < 0.6:
        hour += 1.5
    return hour


def office_time(rng: random.Random, after: int, min_hours: float = 0.0) -> int:
    """The first office-hours moment at least `min_hours` after `after`."""
    earliest = after + int(min_hours * HOUR)
    day = next_workday(day_of(earliest))
    moment = at(day, office_hour(rng))
    while moment < earliest:
        day = next_workday(day + 1)
        moment = at(day, office_hour(rng))
    return moment


def browse_time(rng: random.Random, day: int, rhythm: Rhythm) -> int:
    """A moment on `day` when a person of that rhythm would be on the website."""
    if rhythm == "b2b" and day < len(WORKDAY) and WORKDAY[day]:
        return at(day, office_hour(rng))
    return at(day, evening_hour(rng))


def later(rng: random.Random, moment: int, mean_days: float, rhythm: Rhythm) -> int:
    """A browsing moment some (exponentially distributed) days after `moment`."""
    day = day_of(moment) + 1 + int(rng.expovariate(1.0 / max(mean_days, 0.5)))
    return browse_time(rng, day, rhythm)
