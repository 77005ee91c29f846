"""GET /api/profiles and /api/profiles/{identifier}: people, their identifiers and timeline.

The same handlers answer the CLI on /internal/profiles while the server owns
the warehouse, so `percorso profiles` and the API return the same JSON.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from percorso.app.api.deps import LocalCli, ReadKey, RuntimeDep
from percorso.identity.lookup import ProfileDetail, ProfilePage

router = APIRouter(prefix="/api/profiles", tags=["profiles"], dependencies=[ReadKey])
internal = APIRouter(prefix="/internal/profiles", dependencies=[LocalCli], include_in_schema=False)


async def list_profiles(
    rt: RuntimeDep,
    query: Annotated[
        str | None, Query(max_length=200, description="Part of a name, an email or any identifier.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProfilePage:
    """Profiles, most recently active first."""
    return await run_in_threadpool(lambda: rt.profiles.search(query, limit=limit, offset=offset))


async def show_profile(
    identifier: str,
    rt: RuntimeDep,
    timeline_limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    timeline_offset: Annotated[int, Query(ge=0)] = 0,
) -> ProfileDetail:
    """A profile by its id or by any of its identifiers (email, phone, anonymous id, CRM id…)."""
    return await run_in_threadpool(
        lambda: rt.profiles.detail(identifier, limit=timeline_limit, offset=timeline_offset)
    )


for _router in (router, internal):
    _router.add_api_route("", list_profiles, methods=["GET"], response_model=ProfilePage)
    _router.add_api_route(
        "/{identifier}", show_profile, methods=["GET"], response_model=ProfileDetail
    )
