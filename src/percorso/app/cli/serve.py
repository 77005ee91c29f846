"""`percorso serve`: the collector, API and dashboard on one port."""

from __future__ import annotations

import errno
import os
import socket
from typing import Annotated

import typer
from rich.console import Console

from percorso.app.cli import settings_of
from percorso.collect.local import ServerInfo, running_server
from percorso.errors import UserError
from percorso.identity.rules import load_rules

out = Console(highlight=False, stderr=True, soft_wrap=True)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} on {host} is already in use: pick another with --port"
            ) from exc
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}; check --host") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port (default 8000; 0 picks a free one).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the collector (/v1/...), the API (/api/...) and the dashboard (/)."""
    # Imported here so that other commands start fast.
    import uvicorn

    from percorso.app.api.app import create_app
    from percorso.app.api.runtime import Runtime

    base = settings_of(ctx)
    settings = base.model_copy(
        update={
            "host": host if host is not None else base.host,
            "port": port if port is not None else base.port,
        }
    )
    # A mistake in identity.yaml is the user's to fix: say so before serving.
    load_rules(settings.resolved_home)
    other = running_server(settings)
    if other is not None:
        raise UserError(
            f"a Percorso server already serves this home at {other.url} (pid {other.pid}); "
            "stop it first or use another --home"
        )
    sock = _bind(settings.host, settings.port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown_host}:{bound_port}"

    def announce(runtime: Runtime) -> None:
        ServerInfo(url=url, pid=os.getpid(), token=runtime.local_token).write(settings.server_file)
        out.print(f"Percorso is serving {settings.resolved_home} on {url}  (dashboard: {url}/)")

    def retire() -> None:
        # uvicorn re-raises SIGTERM after its graceful shutdown, so clean up here.
        current = ServerInfo.read(settings.server_file)
        if current is not None and current.pid == os.getpid():
            settings.server_file.unlink(missing_ok=True)

    app = create_app(settings, on_started=announce, on_stopped=retire)
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, timeout_graceful_shutdown=30
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
