"""The seam between analyses and the engine that runs them.

Analyses build Ibis expressions on `engine.ibis` (an Ibis backend holding the
warehouse's tables) and run them with `engine.to_arrow`. The embedded DuckDB
`Warehouse` is one engine; `percorso.analytics.spark.SparkEngine` is another.
Nothing above this seam names a backend.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa


class Engine(Protocol):
    """An Ibis backend with the warehouse's tables, and a way to run expressions on it."""

    in_process: bool
    """The engine runs in this process (the embedded DuckDB): reading a few columns of many
    rows costs a copy in memory, so a runner may finish the work there (in numpy)."""

    @property
    def ibis(self) -> Any: ...

    def to_arrow(self, expr: Any) -> pa.Table: ...

    def in_storage_order(self, expr: Any) -> pa.Table | None:
        """`expr` (filters and projections of `profile_events`) in the table's storage
        order, when the engine keeps that table in path order; None otherwise."""
        ...
