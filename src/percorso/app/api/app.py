"""`create_app(settings)`: the collector, the API and the dashboard in one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from percorso import __version__
from percorso.app.api import (
    analytics,
    collect,
    dashboard,
    events,
    health,
    internal,
    journey,
    profiles,
    snippet,
    stats,
)
from percorso.app.api.responses import JSONResponse
from percorso.app.api.runtime import Runtime
from percorso.config import Settings
from percorso.errors import TransientError, UserError


def create_app(
    settings: Settings,
    *,
    on_started: Callable[[Runtime], None] | None = None,
    on_stopped: Callable[[], None] | None = None,
) -> FastAPI:
    """The app; `on_started` runs once the stores are open (the CLI announces itself there)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await run_in_threadpool(Runtime.start, settings)
        app.state.runtime = runtime
        if on_started is not None:
            on_started(runtime)
        try:
            yield
        finally:
            await run_in_threadpool(runtime.stop)
            if on_stopped is not None:
                on_stopped()

    app = FastAPI(
        title="Percorso",
        version=__version__,
        description="Customer journey management: collect, resolve, map, analyse, listen, act.",
        lifespan=lifespan,
    )
    # The website snippet posts from the customer's own site.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["POST", "GET", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
        expose_headers=["Retry-After"],
        max_age=86400,
    )

    @app.exception_handler(UserError)
    async def user_error(_request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse({"success": False, "error": str(exc)}, status_code=exc.status)

    @app.exception_handler(TransientError)
    async def transient_error(_request: Request, exc: TransientError) -> JSONResponse:
        return JSONResponse(
            {"success": False, "error": str(exc), "retry_after": exc.retry_after},
            status_code=503,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(
            {
                "success": False,
                "error": f"invalid request: {details}",
                # A validator's own error sits in `ctx` as an exception object: as text.
                "detail": jsonable_encoder(exc.errors(), custom_encoder={Exception: str}),
            },
            status_code=422,
        )

    for module in (
        analytics,
        collect,
        dashboard,
        events,
        health,
        internal,
        journey,
        profiles,
        snippet,
        stats,
    ):
        app.include_router(module.router)
    app.include_router(journey.admin)
    app.include_router(journey.internal)
    app.include_router(analytics.internal)
    app.include_router(profiles.internal)
    # Found through the installed package, wherever it lives (not the working directory).
    app.mount("/static", StaticFiles(packages=[("percorso.app.web", "static")]), name="static")
    return app
