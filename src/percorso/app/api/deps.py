"""FastAPI dependencies: what a handler's signature says it needs."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from percorso.app.api.runtime import Runtime
from percorso.collect.sink import TOKEN_HEADER
from percorso.errors import Unauthorized


def runtime(request: Request) -> Runtime:
    found = request.app.state.runtime
    assert isinstance(found, Runtime)
    return found


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def local_cli(
    rt: RuntimeDep,
    token: Annotated[str | None, Header(alias=TOKEN_HEADER)] = None,
) -> None:
    """Only the CLI on this machine (which can read <home>/server.json) may call."""
    if token is None or not secrets.compare_digest(token, rt.local_token):
        raise Unauthorized("this endpoint is for the percorso CLI on the server's machine")


LocalCli = Depends(local_cli)
