"""The error hierarchy every layer raises from.

Retry decisions are made by type: a ``UserError`` is terminal (the input must
change; the CLI exits 2, the API answers 4xx), a ``TransientError`` may succeed
if tried again later (the API answers 503 with ``Retry-After``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PercorsoError(Exception):
    """Root of every error Percorso raises on purpose."""


class UserError(PercorsoError):
    """Bad input: the message names the problem and the fix.

    ``status`` is the HTTP status the API answers with.
    """

    status: int = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class NotFound(UserError):
    status = 404


class Unauthorized(UserError):
    status = 401


class TransientError(PercorsoError):
    """Try again later: the store is busy, the disk is full, a peer is down."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean "x"?` for the closest of `choices`, or nothing."""
    found = difflib.get_close_matches(word, list(choices), n=1)
    return f'; did you mean "{found[0]}"?' if found else ""
