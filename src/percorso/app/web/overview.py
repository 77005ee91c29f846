"""The dashboard's first page: the store's totals, rendered on the server.

The page is HTML from Jinja2 templates with the per-day chart drawn as inline
SVG here, so it needs no JavaScript, no CDN and no build step, and it reads
the same `StoreStats` as `percorso stats --json` and `GET /api/stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from percorso import __version__
from percorso.app.web.i18n import Catalogue, Language
from percorso.warehouse.stats import DayTotal, StoreStats

Bucket = Literal["day", "week", "month"]
Anchor = Literal["start", "middle", "end"]

# Past these spans a bar per day gets thinner than a pixel on a laptop.
DAILY_UP_TO = timedelta(days=92)
WEEKLY_UP_TO = timedelta(days=731)

CHART_WIDTH = 800
CHART_HEIGHT = 220
PLOT_TOP = 12
PLOT_BOTTOM = 190
PLOT_LEFT = 48
# A few bars would otherwise each fill a quarter of the chart.
MAX_BAR = 56.0


@dataclass(frozen=True)
class Bar:
    """One bar of the chart, in SVG user units."""

    start: date
    events: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    bucket: Bucket
    bars: list[Bar]
    peak: int


def _bucket_start(day: date, bucket: Bucket) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next(start: date, bucket: Bucket) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def chart(by_day: list[DayTotal]) -> Chart | None:
    """Bars from the first to the last day with events, empty periods included.

    A gap shows as a gap: a week without events is a finding, not a row to skip.
    """
    if not by_day:
        return None
    first, last = by_day[0].day, by_day[-1].day
    span = last - first
    bucket: Bucket = "day" if span <= DAILY_UP_TO else "week" if span <= WEEKLY_UP_TO else "month"
    totals: dict[date, int] = {}
    for row in by_day:
        start = _bucket_start(row.day, bucket)
        totals[start] = totals.get(start, 0) + row.events
    starts = []
    current = _bucket_start(first, bucket)
    while current <= last:
        starts.append(current)
        current = _next(current, bucket)
    peak = max(totals.values())
    slot = (CHART_WIDTH - PLOT_LEFT) / len(starts)
    width = min(slot * 0.8 if slot >= 4 else slot, MAX_BAR)
    plot = PLOT_BOTTOM - PLOT_TOP
    bars = []
    for index, start in enumerate(starts):
        events = totals.get(start, 0)
        # A day with a handful of events among thousands still shows a sliver.
        height = max(plot * events / peak, 1.5) if events else 0.0
        bars.append(
            Bar(
                start=start,
                events=events,
                x=round(PLOT_LEFT + index * slot + (slot - width) / 2, 2),
                y=round(PLOT_BOTTOM - height, 2),
                width=round(width, 2),
                height=round(height, 2),
            )
        )
    return Chart(bucket=bucket, bars=bars, peak=peak)


@cache
def _environment() -> Environment:
    # Built on first use, not at import: no module does work when imported.
    return Environment(
        loader=PackageLoader("percorso.app.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def period_label(bar: Bar, bucket: Bucket, t: Catalogue) -> str:
    if bucket == "week":
        return str(t("chart.week_of", day=t.day(bar.start)))
    if bucket == "month":
        return t.month(bar.start)
    return t.day(bar.start)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    anchor: Anchor


def ticks(found: Chart | None, t: Catalogue) -> list[Tick]:
    """Labels under the first, middle and last bars: enough to read the span."""
    if found is None:
        return []
    bars = found.bars
    picked: list[tuple[Bar, Anchor]] = [(bars[0], "start")]
    if len(bars) > 2:
        picked.append((bars[len(bars) // 2], "middle"))
    if len(bars) > 1:
        picked.append((bars[-1], "end"))
    result = []
    for bar, anchor in picked:
        x = (
            bar.x
            if anchor == "start"
            else bar.x + bar.width
            if anchor == "end"
            else bar.x + bar.width / 2
        )
        result.append(Tick(x=round(x, 2), label=period_label(bar, found.bucket, t), anchor=anchor))
    return result


def render_overview(stats: StoreStats, language: Language, *, collector: str) -> str:
    """The overview page; `collector` is this server's address, for the snippet tag."""
    t = Catalogue(language)
    found = chart(stats.by_day)
    return (
        _environment()
        .get_template("overview.html")
        .render(
            t=t,
            switch=Catalogue(t.other),
            stats=stats,
            chart=found,
            ticks=ticks(found, t),
            period_label=period_label,
            collector=collector,
            version=__version__,
            size={
                "width": CHART_WIDTH,
                "height": CHART_HEIGHT,
                "top": PLOT_TOP,
                "bottom": PLOT_BOTTOM,
                "left": PLOT_LEFT,
            },
        )
    )
