"""Endpoints the local CLI uses while the server owns the warehouse."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from percorso.app.api.deps import LocalCli, RuntimeDep
from percorso.collect.sink import read_arrow
from percorso.errors import UserError
from percorso.identity.lookup import Conflict, Refused
from percorso.warehouse.browse import FailedEvent, failed_events
from percorso.warehouse.stats import StoreStats

router = APIRouter(prefix="/internal", dependencies=[LocalCli], include_in_schema=False)


class AppendRequest(BaseModel):
    """Names of Arrow files in <home>/spool written by the CLI."""

    events: str | None = None
    failed: str | None = None
    resolved_failures: list[str] = []


class AppendResponse(BaseModel):
    inserted: int
    duplicates: int
    failed: int


@router.post("/append")
async def append(request: AppendRequest, rt: RuntimeDep) -> AppendResponse:
    spool = rt.settings.spool_dir.resolve()
    tables = {}
    for key, name in (("events", request.events), ("failed", request.failed)):
        if name is None:
            continue
        path = (spool / name).resolve()
        if path.parent != spool or not path.is_file():
            raise UserError(f"{name!r} is not a file in the spool folder {spool}")
        tables[key] = read_arrow(path)
    result = await run_in_threadpool(
        rt.warehouse.append,
        tables.get("events"),
        tables.get("failed"),
        dedupe_window=rt.settings.dedupe_window,
        resolved_failures=request.resolved_failures,
    )
    return AppendResponse(
        inserted=result.inserted, duplicates=result.duplicates, failed=result.failed
    )


@router.get("/stats")
async def stats(rt: RuntimeDep) -> StoreStats:
    return await run_in_threadpool(rt.stats)


class UnmergeRequest(BaseModel):
    link_id: str
    reason: str = ""
    undo: bool = False


@router.post("/identity/rebuild")
async def identity_rebuild(rt: RuntimeDep) -> dict[str, object]:
    return asdict(await run_in_threadpool(rt.profiles.rebuild))


@router.post("/identity/unmerge")
async def identity_unmerge(request: UnmergeRequest, rt: RuntimeDep) -> dict[str, object]:
    result = await run_in_threadpool(
        lambda: rt.profiles.unmerge(request.link_id, request.reason, undo=request.undo)
    )
    return asdict(result)


@router.get("/identity/conflicts")
async def identity_conflicts(rt: RuntimeDep) -> list[Conflict]:
    return await run_in_threadpool(rt.profiles.conflicts)


@router.get("/identity/refused")
async def identity_refused(rt: RuntimeDep, limit: int = 100) -> list[Refused]:
    return await run_in_threadpool(rt.profiles.refused, limit)


@router.get("/failed")
async def failed(rt: RuntimeDep, source: str | None = None) -> list[FailedEvent]:
    return await run_in_threadpool(failed_events, rt.warehouse, source=source, limit=None)
