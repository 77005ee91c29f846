"""GET /api/events and /api/events/failed: the debugger (newest events, failed ones and why)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from percorso.app.api.deps import ReadKey, RuntimeDep
from percorso.warehouse.browse import (
    MAX_LIMIT,
    FailedEvent,
    StoredEvent,
    failed_events,
    recent_events,
)

router = APIRouter(prefix="/api/events", tags=["events"], dependencies=[ReadKey])


@router.get("")
async def list_events(
    rt: RuntimeDep,
    source: str | None = None,
    message_id: Annotated[str | None, Query(alias="messageId")] = None,
    user: Annotated[str | None, Query(description="A userId or anonymousId.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> list[StoredEvent]:
    """The newest stored events, optionally of one source, message id or user."""
    return await run_in_threadpool(
        recent_events, rt.warehouse, source=source, message_id=message_id, user=user, limit=limit
    )


@router.get("/failed")
async def list_failed(
    rt: RuntimeDep,
    source: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> list[FailedEvent]:
    """The newest failed events with the reason and the raw payload."""
    return await run_in_threadpool(failed_events, rt.warehouse, source=source, limit=limit)
