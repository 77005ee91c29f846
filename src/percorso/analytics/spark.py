"""Apache Spark as an analytics engine (the optional extra `percorso[spark]`).

The same runners that read the embedded DuckDB warehouse run on Spark through
Ibis's PySpark backend. `SparkEngine.local()` starts Spark in local mode (no
cluster, no network beyond loopback); `load_from` copies the warehouse tables
the analyses read into it. Starting Spark takes seconds: share one engine, and
use `sibling()` for a second set of tables on the same Spark.

Nothing is written in the working directory: tables are temporary views held in
memory, the catalog is Spark's in-memory one (no Derby `metastore_db`), and the
warehouse directory Spark insists on is a temporary directory removed by `stop()`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from percorso.errors import UserError
from percorso.warehouse.engine import Engine

# The tables the analyses read: `events` (event names, types) and `profile_events`.
TABLES = ("events", "profile_events")


class SparkEngine:
    """An Ibis PySpark backend holding copies of the warehouse's tables."""

    in_process = False  # the work stays on the cluster (a JVM, even in local mode)

    def __init__(self, session: Any, scratch: str | None = None) -> None:
        self.session = session
        self._scratch = scratch
        self._con = ibis.pyspark.connect(session)

    @classmethod
    def local(cls, cores: int = 2) -> SparkEngine:
        """A Spark session in local mode, in UTC, with its web UI off."""
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise UserError(
                "Spark is not installed: pip install 'percorso[spark]' (it needs Java 17+)"
            ) from exc
        # Spark's Python workers must run this interpreter, which has pyarrow.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        scratch = tempfile.mkdtemp(prefix="percorso-spark-")
        session = (
            SparkSession.builder.master(f"local[{cores}]")
            .appName("percorso")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", str(cores * 2))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.sql.warehouse.dir", str(Path(scratch, "warehouse")))
            .config("spark.local.dir", str(Path(scratch, "local")))
            # Inferring filters from constraints grows exponentially with chains of joins (a
            # 12-step funnel: 250 s of planning instead of 7 s); the queries filter explicitly.
            .config("spark.sql.constraintPropagation.enabled", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return cls(session, scratch)

    def sibling(self) -> SparkEngine:
        """An engine on the same Spark with tables of its own (a new Spark session: its own
        temporary views and settings), so two warehouses can stay loaded side by side."""
        return SparkEngine(self.session.newSession())

    def load_from(self, source: Engine, tables: tuple[str, ...] = TABLES) -> None:
        """Copy `tables` from `source` (replacing what this engine held under those names)."""
        for name in tables:
            # One Arrow table per warehouse table, sent to the JVM as Arrow batches.
            table = source.to_arrow(source.ibis.table(name))
            # A temporary view lives in the session's memory; a managed table would be
            # written under spark.sql.warehouse.dir.
            self.session.createDataFrame(table).createOrReplaceTempView(name)

    @property
    def ibis(self) -> Any:
        return self._con

    def to_arrow(self, expr: Any) -> pa.Table:
        return self._con.to_pyarrow(expr)

    def in_storage_order(self, expr: Any) -> pa.Table | None:
        return None  # a cluster's scan keeps no order

    def stop(self) -> None:
        """Stop Spark (every sibling with it) and remove its scratch directory."""
        self.session.stop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
