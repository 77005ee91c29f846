"""The journey capability as the CLI, the API and the dashboard call it.

`MapCatalog` is the company's side (the operational database): which map is
active, every version, and diffs. `JourneyService` is the territory's side
(the warehouse): stages, integration gaps and the measured map, for a map
given as text. The CLI sends the map's text to a running server, so both
sides meet whichever process owns the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from percorso.errors import UserError
from percorso.identity.service import ProfileService
from percorso.journey.diff import MapDiff, diff_maps
from percorso.journey.gaps import GapsReport, integration_gaps
from percorso.journey.lifecycle import Lifecycle, ProfileStages, StagesReport, now
from percorso.journey.measure import measure_map
from percorso.journey.model import (
    NO_PERSONA,
    NO_STAGE,
    JourneyMap,
    default_map_text,
    load_map_text,
    unknown_reference,
)
from percorso.journey.touches import PhaseEntry, phase_history, touches
from percorso.journey.versions import MapVersions, VersionInfo
from percorso.journey.views import MapView
from percorso.operational.db import Database
from percorso.warehouse.store import Warehouse
from percorso.yaml_models import parse_yaml

DEFAULT_LABEL = "default map"


class MapSource(BaseModel):
    """A map as the warehouse side needs it: its text and, if applied, its version."""

    text: str
    version: int | None = None
    label: str = DEFAULT_LABEL

    def load(self) -> JourneyMap:
        return load_map_text(self.text, self.label)


class MeasureRequest(BaseModel):
    """What the CLI sends a running server to measure: the map it was given, and the question."""

    source: MapSource
    as_of: datetime | None = None
    identifier: str | None = None
    persona: str | None = None


class ProfileJourney(ProfileStages):
    """One profile's stages and phases, with entry times."""

    phases: list[PhaseEntry]


class ApplyResult(BaseModel):
    version: int
    created: bool
    stages: StagesReport


def _label(version: int) -> str:
    return f"journey map version {version}"


@dataclass
class MapCatalog:
    """Applied maps in the operational database; the default one until a map is applied."""

    database: Database

    @property
    def versions(self) -> MapVersions:
        return MapVersions(self.database)

    def active(self) -> MapSource:
        latest = self.versions.latest()
        if latest is None:
            return MapSource(text=default_map_text())
        return MapSource(text=latest.text, version=latest.version, label=_label(latest.version))

    def get(self, version: int) -> MapSource:
        stored = self.versions.get(version)
        return MapSource(text=stored.text, version=stored.version, label=_label(stored.version))

    def store(self, source: MapSource, note: str | None = None) -> tuple[int, bool]:
        """Validate and store as a new version (unless it equals the latest)."""
        journey_map = source.load()
        saved = self.versions.save(source.text, journey_map.name, note)
        return saved.version, saved.created

    def apply(
        self,
        source: MapSource,
        note: str | None,
        stages: Callable[[MapSource], StagesReport],
    ) -> ApplyResult:
        """Store `source` as the active version and measure everyone's stage under it.

        `stages` measures in whichever process owns the warehouse.
        """
        version, created = self.store(source, note)
        return ApplyResult(version=version, created=created, stages=stages(self.get(version)))

    def list(self) -> list[VersionInfo]:
        return self.versions.list()

    def diff(self, old: MapSource, new: MapSource) -> MapDiff:
        # A diff of a broken map would mislead: both must load.
        old.load()
        new.load()
        return diff_maps(parse_yaml(old.text, old.label)[0], parse_yaml(new.text, new.label)[0])


class JourneyService:
    """Measures a map against the warehouse; identity is brought up to date first."""

    def __init__(self, warehouse: Warehouse, profiles: ProfileService) -> None:
        self.warehouse = warehouse
        self.profiles = profiles

    def _ready(self, source: MapSource, as_of: datetime | None) -> tuple[JourneyMap, datetime]:
        journey_map = source.load()
        self.profiles.refresh()
        return journey_map, as_of or now()

    def stages(self, source: MapSource, as_of: datetime | None = None) -> StagesReport:
        journey_map, moment = self._ready(source, as_of)
        return Lifecycle(self.warehouse, journey_map, moment, map_version=source.version).report()

    def profile(
        self, source: MapSource, identifier: str, as_of: datetime | None = None
    ) -> ProfileJourney:
        journey_map, moment = self._ready(source, as_of)
        profile_id = self.profiles.find(identifier)
        lifecycle = Lifecycle(self.warehouse, journey_map, moment, map_version=source.version)
        stages = lifecycle.profile(profile_id)
        touched = touches(self.warehouse, journey_map, moment)
        phases = phase_history(self.warehouse, touched, profile_id)
        if stages is None:  # no event before `as_of`
            return ProfileJourney(
                profile_id=profile_id, persona=NO_PERSONA, stage=NO_STAGE, history=[], phases=phases
            )
        return ProfileJourney(**stages.model_dump(), phases=phases)

    def gaps(self, source: MapSource, as_of: datetime | None = None) -> GapsReport:
        journey_map, moment = self._ready(source, as_of)
        return integration_gaps(self.warehouse, journey_map, moment, map_version=source.version)

    def measure(
        self, source: MapSource, persona: str | None = None, as_of: datetime | None = None
    ) -> MapView:
        journey_map, moment = self._ready(source, as_of)
        if persona is not None and persona not in journey_map.persona_rules:
            raise UserError(unknown_reference("persona", persona, list(journey_map.persona_rules)))
        return measure_map(
            self.warehouse, journey_map, moment, persona=persona, map_version=source.version
        )
