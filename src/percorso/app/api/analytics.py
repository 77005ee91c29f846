"""/api/analytics/{name}: every analysis, a typed JSON query in, its typed result out.

One route per analysis (so OpenAPI documents each query and result), all
calling `AnalyticsService.run`, the runner the CLI and the dashboard call.
The CLI's own route, /internal/analytics/{name}, carries the map it was given.

No `from __future__ import annotations` here: FastAPI reads the route
signatures, which are built per analysis at import time.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from percorso.analytics.service import ANALYSES, Analysis, AnalyticsRequest, analysis
from percorso.app.api.deps import LocalCli, ReadKey, RuntimeDep
from percorso.app.api.journey import Version, map_source
from percorso.errors import UserError

router = APIRouter(prefix="/api/analytics", tags=["analytics"], dependencies=[ReadKey])
internal = APIRouter(prefix="/internal/analytics", dependencies=[LocalCli], include_in_schema=False)


def _route(found: Analysis) -> None:
    async def run(rt: RuntimeDep, query: Any, version: Version = None) -> Any:
        source = map_source(rt, version)
        return await run_in_threadpool(rt.analytics.run, found.name, query, source)

    run.__annotations__ = {
        "rt": RuntimeDep,
        "query": Annotated[found.query, Body()],
        "version": Version,
        "return": found.result,
    }
    run.__doc__ = found.summary
    router.add_api_route(
        f"/{found.name}",
        run,
        methods=["POST"],
        response_model=found.result,
        summary=found.summary.splitlines()[0],
        name=f"analytics_{found.name}",
    )


for _found in ANALYSES.values():
    _route(_found)


@internal.post("/{name}")
async def internal_run(rt: RuntimeDep, name: str, body: Annotated[AnalyticsRequest, Body()]) -> Any:
    found = analysis(name)
    try:
        query = found.query.model_validate(body.query)
    except ValidationError as exc:  # the CLI built it, so this is a bug of ours, said plainly
        raise UserError(f"the query does not validate: {exc.errors()[0]['msg']}") from exc
    result: BaseModel = await run_in_threadpool(rt.analytics.run, name, query, body.source)
    return JSONResponse(result.model_dump(mode="json", by_alias=True))
