"""GET /api/stats: the store's totals (the same JSON as `percorso stats --json`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from percorso.app.api.deps import RuntimeDep
from percorso.warehouse.stats import StoreStats

router = APIRouter(prefix="/api", tags=["stats"])


@router.get("/stats")
async def stats(rt: RuntimeDep) -> StoreStats:
    """Events, failed events, profiles, sources, first and last event; totals per source, channel and day."""
    return await run_in_threadpool(rt.stats)
