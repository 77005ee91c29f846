"""GET /: the dashboard's overview page, in Italian or English."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from percorso.app.api.deps import RuntimeDep
from percorso.app.web.i18n import negotiate
from percorso.app.web.overview import render_overview

router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def overview(
    request: Request,
    rt: RuntimeDep,
    lang: Annotated[str | None, Query(description="it or en")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """Totals per source, channel and day; the language from ?lang=, the browser, or Italian."""
    language = negotiate(lang, accept_language)
    stats = await run_in_threadpool(rt.stats)
    collector = str(request.base_url).rstrip("/")
    return HTMLResponse(
        render_overview(stats, language, collector=collector),
        headers={"Content-Language": language, "Vary": "Accept-Language"},
    )
