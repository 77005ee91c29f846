"""GET /health: is the server up, and how far behind is the writer."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from percorso.app.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(rt: RuntimeDep) -> dict[str, Any]:
    """Liveness plus ingest counters: received = accepted + failed; accepted = stored + duplicates + pending."""
    writer = rt.writer
    return {
        "status": "ok" if writer.counters.last_error is None or writer.backlog == 0 else "degraded",
        "backlog_bytes": writer.backlog,
        "collector": asdict(rt.collector.counters),
        "writer": asdict(writer.counters),
    }
