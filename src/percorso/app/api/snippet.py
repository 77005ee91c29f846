"""GET /js/percorso.js: the website snippet, served by the collector itself."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(tags=["collect"])


@router.get("/js/percorso.js", include_in_schema=False)
async def snippet() -> Response:
    script = (files("percorso.app.web") / "static" / "percorso.js").read_bytes()
    return Response(
        script,
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )
