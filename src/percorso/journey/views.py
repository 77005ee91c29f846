"""What a drawn map shows: the measured map, ready for a renderer.

`measure.py` fills these from the warehouse; `render.py` draws them. Keeping
the shapes here lets the renderer be tested on hand-built views and the
measures be tested without drawing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Bilingual(BaseModel):
    """A label a business user reads, in Italian and English."""

    it: str
    en: str


class KpiValue(BaseModel):
    """One KPI of a phase or touchpoint, as measured."""

    kpi: str
    label: Bilingual
    value: float | None
    unit: str  # "profiles", "events", "share" (0..1), "days"
    target: float | None = None


class TouchpointCell(BaseModel):
    """A touchpoint in its phase column, with what customers did there."""

    id: str
    label: Bilingual
    channel: str
    device: str
    department: str
    system: str
    events: int
    profiles: int
    nps: float | None = None  # -100..100, from survey answers linked to the touchpoint
    sentiment: float | None = None  # -1..1
    pain: bool = False  # among the worst drop-offs of the map
    kpis: list[KpiValue] = []


class PhaseColumn(BaseModel):
    """One phase of the map, as a column."""

    id: str
    label: Bilingual
    touchpoints: list[TouchpointCell]
    profiles: int  # profiles that reached the phase
    conversion_to_next: float | None  # share that went on to the next phase; None for the last
    median_days_in_phase: float | None
    channels: list[str]  # the channels of its touchpoints, most used first
    departments: list[str]
    systems: list[str]
    pain: bool = False  # the drop-off after this phase is among the worst
    kpis: list[KpiValue] = []


class PainPoint(BaseModel):
    """A worst drop-off, said in words for the wall map's margin."""

    phase: str
    touchpoint: str | None
    text: Bilingual
    lost_profiles: int


class MapView(BaseModel):
    """A journey map for one persona (or all), measured as of a date."""

    title: str
    persona: str | None  # persona id; None = every profile
    persona_label: Bilingual | None
    as_of: datetime
    map_version: int | None
    profiles: int
    phases: list[PhaseColumn]
    pain_points: list[PainPoint]
    system_labels: dict[str, Bilingual] = {}  # system id -> its name in the map


class SystemNode(BaseModel):
    """A system of the integration map (website, CRM, ERP...)."""

    id: str
    label: Bilingual
    profiles: int  # profiles with at least one event from the system


class FlowView(BaseModel):
    """A data flow between two systems and how much of it reaches the other side."""

    source: str  # system id
    target: str  # system id
    label: Bilingual
    population: int  # profiles the flow should carry
    reached: int  # of those, profiles found in the target system
    coverage: float | None  # reached / population; None when the population is empty
    median_hours_to_reach: float | None


class IntegrationView(BaseModel):
    """The integration map with each flow's measured coverage."""

    title: str
    as_of: datetime
    map_version: int | None
    systems: list[SystemNode]
    flows: list[FlowView]
