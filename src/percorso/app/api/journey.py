"""/api/journey: the journey map, its versions, stages, integration gaps, the drawn map.

Reads need a read key; applying a map needs an admin key. The CLI uses the
same handlers on /internal/journey while the server owns the warehouse,
sending the map it was given, so `percorso stages` and the API agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from percorso.app.api.deps import AdminKey, LocalCli, ReadKey, RuntimeDep
from percorso.app.api.runtime import Runtime
from percorso.errors import UserError
from percorso.journey.diff import MapDiff
from percorso.journey.gaps import GapsReport
from percorso.journey.lifecycle import StagesReport
from percorso.journey.render import render_integrations_html, render_map_html
from percorso.journey.service import ApplyResult, MapSource, MeasureRequest, ProfileJourney
from percorso.journey.views import MapView

router = APIRouter(prefix="/api/journey", tags=["journey"], dependencies=[ReadKey])
admin = APIRouter(prefix="/api/journey", tags=["journey"])
internal = APIRouter(prefix="/internal/journey", dependencies=[LocalCli], include_in_schema=False)

MAX_MAP_BYTES = 1_000_000
AsOf = Annotated[
    datetime | None,
    Query(description="Measure as of this moment (ISO date or date-time, UTC); default now."),
]
Version = Annotated[
    int | None, Query(ge=1, description="A stored map version; default the active map.")
]


class MapInfo(BaseModel):
    """The active map (or a stored version): its text and what it declares."""

    version: int | None
    name: str
    text: str
    phases: list[str]
    stages: list[str]
    personas: list[str]
    touchpoints: list[str]
    systems: list[str]


class VersionRow(BaseModel):
    version: int
    name: str
    sha256: str
    created_at: datetime
    note: str | None


class ValidateResult(BaseModel):
    valid: bool
    info: MapInfo


async def _map_text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_MAP_BYTES:
        raise UserError(f"a journey map is at most {MAX_MAP_BYTES:,} bytes", status=413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError("send the map as UTF-8 YAML text (Content-Type: application/yaml)") from exc
    if not text.strip():
        raise UserError("the request body is empty: send the map's YAML text")
    return text


def map_source(rt: Runtime, version: int | None) -> MapSource:
    return rt.maps.active() if version is None else rt.maps.get(version)


def _info(source: MapSource) -> MapInfo:
    m = source.load()
    return MapInfo(
        version=source.version,
        name=m.name,
        text=source.text,
        phases=[p.id for p in m.phases],
        stages=[s.id for s in m.stages],
        personas=[p.id for p in m.personas],
        touchpoints=[t.id for t in m.touchpoints],
        systems=[s.id for s in m.systems],
    )


@router.get("/map")
async def show_map(rt: RuntimeDep, version: Version = None) -> MapInfo:
    """The active journey map (the last applied; the default map until one is applied)."""
    return _info(await run_in_threadpool(map_source, rt, version))


@router.get("/map/versions")
async def list_versions(rt: RuntimeDep) -> list[VersionRow]:
    """Every applied map version, newest first."""
    rows = await run_in_threadpool(rt.maps.list)
    return [VersionRow(**vars(row)) for row in rows]


@router.get("/map/diff")
async def diff_versions(
    rt: RuntimeDep,
    old: Annotated[int, Query(ge=1, description="The older version.")],
    new: Annotated[int, Query(ge=1, description="The newer version.")],
) -> MapDiff:
    """What changed between two stored versions."""
    return await run_in_threadpool(lambda: rt.maps.diff(rt.maps.get(old), rt.maps.get(new)))


@router.post(
    "/map/validate",
    openapi_extra={
        "requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}}
    },
)
async def validate_map(request: Request) -> ValidateResult:
    """Check a map (YAML body) without storing it: 400 with file, line and key if it is wrong."""
    text = await _map_text(request)
    return ValidateResult(valid=True, info=_info(MapSource(text=text, label="request body")))


@admin.post(
    "/map",
    dependencies=[AdminKey],
    openapi_extra={
        "requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}}
    },
)
async def apply_map(
    request: Request,
    rt: RuntimeDep,
    note: Annotated[str | None, Query(max_length=500, description="Why this version.")] = None,
) -> ApplyResult:
    """Store the map (YAML body) as a new version and recompute everyone's stage under it."""
    source = MapSource(text=await _map_text(request), label="request body")
    return await run_in_threadpool(lambda: rt.maps.apply(source, note, rt.journey.stages))


@router.get("/stages")
async def stages(rt: RuntimeDep, as_of: AsOf = None, version: Version = None) -> StagesReport:
    """Lifecycle stages: distribution, personas, transitions (designed or not) and their speed."""
    return await run_in_threadpool(lambda: rt.journey.stages(map_source(rt, version), as_of))


@router.get("/stages/{identifier}")
async def profile_stages(
    identifier: str, rt: RuntimeDep, as_of: AsOf = None, version: Version = None
) -> ProfileJourney:
    """One profile's stage and phase history (any identifier: email, phone, profile id…)."""
    return await run_in_threadpool(
        lambda: rt.journey.profile(map_source(rt, version), identifier, as_of)
    )


@router.get("/gaps/integrations")
async def integration_gaps(
    rt: RuntimeDep, as_of: AsOf = None, version: Version = None
) -> GapsReport:
    """Each integration flow of the map with the share of people that make it across."""
    return await run_in_threadpool(lambda: rt.journey.gaps(map_source(rt, version), as_of))


@router.get("/map/measured")
async def measured_map(
    rt: RuntimeDep,
    persona: Annotated[str | None, Query(max_length=64)] = None,
    as_of: AsOf = None,
    version: Version = None,
) -> MapView:
    """The map filled with what customers did: volumes, conversion, time, pain points."""
    return await run_in_threadpool(
        lambda: rt.journey.measure(map_source(rt, version), persona, as_of)
    )


@router.get("/map/render", response_class=Response)
async def render_map(
    rt: RuntimeDep,
    persona: Annotated[str | None, Query(max_length=64)] = None,
    integrations: Annotated[bool, Query(description="Draw the integration map instead.")] = False,
    lang: Annotated[Literal["it", "en"], Query()] = "it",
    as_of: AsOf = None,
    version: Version = None,
) -> Response:
    """The wall map as a self-contained HTML page (PNG and PDF: `percorso map render`)."""

    def draw() -> str:
        source = map_source(rt, version)
        if integrations:
            return render_integrations_html(rt.journey.gaps(source, as_of).view(), lang)
        return render_map_html(rt.journey.measure(source, persona, as_of), lang)

    return Response(await run_in_threadpool(draw), media_type="text/html; charset=utf-8")


# The CLI sends the map it was given (a file, a version, the active map).
@internal.post("/stages")
async def internal_stages(rt: RuntimeDep, body: Annotated[MeasureRequest, Body()]) -> StagesReport:
    return await run_in_threadpool(lambda: rt.journey.stages(body.source, body.as_of))


@internal.post("/profile")
async def internal_profile(
    rt: RuntimeDep, body: Annotated[MeasureRequest, Body()]
) -> ProfileJourney:
    if not body.identifier:
        raise UserError("give the profile's identifier")
    identifier = body.identifier
    return await run_in_threadpool(lambda: rt.journey.profile(body.source, identifier, body.as_of))


@internal.post("/gaps")
async def internal_gaps(rt: RuntimeDep, body: Annotated[MeasureRequest, Body()]) -> GapsReport:
    return await run_in_threadpool(lambda: rt.journey.gaps(body.source, body.as_of))


@internal.post("/measure")
async def internal_measure(rt: RuntimeDep, body: Annotated[MeasureRequest, Body()]) -> MapView:
    return await run_in_threadpool(
        lambda: rt.journey.measure(body.source, body.persona, body.as_of)
    )
