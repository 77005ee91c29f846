"""FastAPI dependencies: what a handler's signature says it needs."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from percorso.app.api.runtime import Runtime
from percorso.collect.receive import write_key_from_header
from percorso.collect.sink import TOKEN_HEADER
from percorso.errors import Unauthorized, UserError
from percorso.govern.keys import ApiKey


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


def read_key(
    rt: RuntimeDep,
    authorization: Annotated[str | None, Header()] = None,
) -> ApiKey:
    """A read or admin key as `Authorization: Bearer <key>` (or the Basic username)."""
    secret = None
    if authorization and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    else:
        secret = write_key_from_header(authorization)
    if not secret:
        raise Unauthorized(
            "this endpoint needs a read key: send `Authorization: Bearer <key>`; "
            "create one with `percorso keys create --role read`"
        )
    key = rt.keys.authenticate(secret)
    if key is None:
        raise Unauthorized("this key is not known or was revoked")
    if key.role not in ("read", "admin"):
        raise UserError("a write key can only send events; use a read key here", status=403)
    return key


ReadKey = Depends(read_key)


def admin_key(key: Annotated[ApiKey, Depends(read_key)]) -> ApiKey:
    """An admin key: needed to change what the company manages (the journey map)."""
    if key.role != "admin":
        raise UserError(
            "this needs an admin key; create one with `percorso keys create --role admin`",
            status=403,
        )
    return key


AdminKey = Depends(admin_key)
