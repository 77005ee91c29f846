"""Segment's HTTP tracking API: POST /v1/{track,identify,page,screen,group,alias,batch}."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from percorso.app.api.deps import RuntimeDep
from percorso.app.api.responses import JSONResponse
from percorso.collect.receive import Endpoint

router = APIRouter(prefix="/v1", tags=["collect"])

ENDPOINTS: tuple[Endpoint, ...] = ("track", "identify", "page", "screen", "group", "alias", "batch")


def _route(endpoint: Endpoint) -> None:
    async def receive(request: Request, rt: RuntimeDep) -> JSONResponse:
        body = await request.body()
        client = request.client.host if request.client else None
        # Validation, normalisation and the fsync run off the event loop.
        receipt = await run_in_threadpool(
            rt.collector.receive,
            endpoint,
            body,
            authorization=request.headers.get("authorization"),
            content_encoding=request.headers.get("content-encoding"),
            client_ip=client,
        )
        return JSONResponse(receipt.body, status_code=receipt.status)

    receive.__name__ = f"collect_{endpoint}"
    router.add_api_route(
        f"/{endpoint}",
        receive,
        methods=["POST"],
        summary=f"Segment-compatible {endpoint}",
        description=(
            "Accepts the Segment HTTP tracking API body. The write key goes as the HTTP Basic "
            "username or as `writeKey` in the body; gzip bodies are accepted. 200 means the "
            "messages are on disk."
        ),
    )


for _endpoint in ENDPOINTS:
    _route(_endpoint)
