"""Draw a measured journey map and its integration map as self-contained HTML.

The pages have no external resources and no script: one HTML file with inline
CSS (and inline SVG for the integrations), sized by `layout.page_size` so a
headless browser can turn it into a PNG or a one-page PDF (`write_output`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from percorso.journey import layout
from percorso.journey.catalogue import Language, Words
from percorso.journey.output import ChromiumFailed, ChromiumMissing, UnknownFormat, write_output
from percorso.journey.views import FlowView, IntegrationView, MapView, PhaseColumn

__all__ = [
    "ChromiumFailed",
    "ChromiumMissing",
    "UnknownFormat",
    "page_size",
    "render_integrations_html",
    "render_map_html",
    "write_output",
]

page_size = layout.page_size

# One colour per phase, in order (cycled past eight); red stays for pain points.
PHASE_COLOURS = (
    "#2f6fde",
    "#1f9d8b",
    "#7b5cd6",
    "#d08a17",
    "#3f8f3a",
    "#c2569b",
    "#4f6d8a",
    "#e07b39",
)
# Integration flows: under LOW is red, under FAIR amber, the rest green.
LOW_COVERAGE = 0.5
FAIR_COVERAGE = 0.8
# NPS (-100..100) and sentiment (-1..1) from these up read as good, from fair as fair.
NPS_GOOD, NPS_FAIR = 30.0, 0.0
SENTIMENT_GOOD, SENTIMENT_FAIR = 0.25, -0.25


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("percorso.journey", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class Markers:
    """Which pain point numbers sit on which card and on which phase's drop-off."""

    cards: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    phases: dict[str, list[int]] = field(default_factory=dict)

    def card(self, phase: str, touchpoint: str) -> list[int]:
        return self.cards.get((phase, touchpoint), [])

    def phase(self, phase: str) -> list[int]:
        return self.phases.get(phase, [])


def _markers(view: MapView) -> Markers:
    """Number the pain points and pin each on its touchpoint, else on its phase."""
    markers = Markers()
    cells = {(p.id, c.id) for p in view.phases for c in p.touchpoints}
    for number, point in enumerate(view.pain_points, start=1):
        key = (point.phase, point.touchpoint or "")
        if key in cells:
            markers.cards.setdefault(key, []).append(number)
        else:
            markers.phases.setdefault(point.phase, []).append(number)
    return markers


def _grade(value: float | None, good: float, fair: float) -> str:
    if value is None:
        return "none"
    return "good" if value >= good else "fair" if value >= fair else "poor"


def _lost(phase: PhaseColumn) -> int | None:
    if phase.conversion_to_next is None:
        return None
    return round(phase.profiles * (1 - phase.conversion_to_next))


def render_map_html(view: MapView, language: Language) -> str:
    """The customer journey map for the wall: phases as columns, lanes as rows."""
    words = Words(language)
    drawn = layout.map_layout(view)
    phase_labels = {phase.id: words.label(phase.label) for phase in view.phases}
    touchpoint_labels = {
        (phase.id, cell.id): words.label(cell.label)
        for phase in view.phases
        for cell in phase.touchpoints
    }
    return (
        _environment()
        .get_template("map.html")
        .render(
            view=view,
            w=words,
            language=language,
            L=layout,
            drawn=drawn,
            colours=[PHASE_COLOURS[i % len(PHASE_COLOURS)] for i in range(len(view.phases))],
            markers=_markers(view),
            most=max((phase.profiles for phase in view.phases), default=0),
            phase_labels=phase_labels,
            touchpoint_labels=touchpoint_labels,
            lost=_lost,
            nps_grade=lambda v: _grade(v, NPS_GOOD, NPS_FAIR),
            sentiment_grade=lambda v: _grade(v, SENTIMENT_GOOD, SENTIMENT_FAIR),
            thresholds={
                "nps_good": NPS_GOOD,
                "nps_fair": NPS_FAIR,
                "sentiment_good": SENTIMENT_GOOD,
                "sentiment_fair": SENTIMENT_FAIR,
            },
        )
    )


def _coverage_grade(flow: FlowView) -> str:
    if flow.coverage is None:
        return "none"
    return (
        "poor"
        if flow.coverage < LOW_COVERAGE
        else "fair"
        if flow.coverage < FAIR_COVERAGE
        else "good"
    )


def render_integrations_html(view: IntegrationView, language: Language) -> str:
    """The integration map: systems as boxes, flows as arrows labelled with their coverage."""
    words = Words(language)
    drawn = layout.integration_layout(view)
    systems = {system.id: system for system in view.systems}
    return (
        _environment()
        .get_template("integrations.html")
        .render(
            view=view,
            w=words,
            language=language,
            L=layout,
            drawn=drawn,
            systems=systems,
            system_label=lambda id: words.label(systems[id].label) if id in systems else id,
            drawn_flows={path.index for path in drawn.paths},
            grade=_coverage_grade,
            low=words.percent(LOW_COVERAGE, 0),
            fair=words.percent(FAIR_COVERAGE, 0),
        )
    )
