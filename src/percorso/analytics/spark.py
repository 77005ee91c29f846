"""Apache Spark as an analytics engine (the optional extra `percorso[spark]`).

The same runners that read the embedded DuckDB warehouse run on Spark through
Ibis's PySpark backend. `SparkEngine.local()` starts Spark in local mode (no
cluster, no network beyond loopback); `load_from` copies the warehouse tables
the analyses read into it. Starting a session takes seconds: share one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import ibis
import pyarrow as pa

from percorso.errors import UserError
from percorso.warehouse.engine import Engine

# The tables `percorso.journey.ticks.profile_events` joins.
TABLES = ("events", "identity_event_nodes", "identity_nodes")


class SparkEngine:
    """An Ibis PySpark backend holding copies of the warehouse's tables."""

    def __init__(self, session: Any) -> None:
        self.session = session
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
        session = (
            SparkSession.builder.master(f"local[{cores}]")
            .appName("percorso")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", str(cores * 2))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="percorso-spark-"))
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return cls(session)

    def load_from(self, source: Engine, tables: tuple[str, ...] = TABLES) -> None:
        """Copy `tables` from `source` (replacing what this engine held under those names)."""
        for name in tables:
            table = source.to_arrow(source.ibis.table(name))
            # A temporary view lives in the session's memory; a managed table would be
            # written under spark.sql.warehouse.dir.
            self.session.createDataFrame(table).createOrReplaceTempView(name)

    @property
    def ibis(self) -> Any:
        return self._con

    def to_arrow(self, expr: Any) -> pa.Table:
        return self._con.to_pyarrow(expr)

    def stop(self) -> None:
        self.session.stop()
