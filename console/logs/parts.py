"""The columns of a sealed part, and reading parts written at different times as one frame."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from console.logs.contract import FIELDS

POLARS_TYPES = {"字符串": pl.String, "整数": pl.Int64, "布尔值（true/false）": pl.Boolean}


def sealed_schema(stream: str) -> pl.Schema:
    """Every column a sealed part of the stream may have (older parts lack ``pii`` and ``day``).

    ``day`` is the Asia/Shanghai calendar day the part was sealed under (one per file): the
    identity partition of the stream's table.
    """
    return pl.Schema({
        "event_id": pl.String, "sender": pl.String, "tenant": pl.String, "raw": pl.String,
        **{name: POLARS_TYPES[kind] for name, kind, _ in FIELDS[stream]},
        "ts": pl.Datetime("us", "UTC"), "pii": pl.String, "day": pl.Date,
    })  # fmt: skip


def scan_parts(stream: str, files: list[Path]) -> pl.LazyFrame:
    """Sealed parts as one lazy frame, whichever columns each was written with."""
    return pl.scan_parquet(
        files, schema=sealed_schema(stream), missing_columns="insert", extra_columns="ignore"
    )
