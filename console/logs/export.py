"""Export a log search as CSV, XLSX or Parquet, streamed one day at a time.

Walking the search's days in order keeps memory to one day's matches whatever the export's
size, and yields the file piece by piece to the HTTP response. Personal data is masked as on
screen; CSV cells a spreadsheet would run as formulas are neutralised (XLSX text cells are never
formulas; time, durations and outcomes are typed cells); every export needs
``audit.logs:export`` and is recorded with its query and size.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlmodel import Session

from console.audit.service import record
from console.authz import service as authz
from console.core.actor import Actor
from console.core.errors import ValidationFailed
from console.core.exporting import BOM, XLSX_MIME, csv_chunk, write_xlsx
from console.core.settings import get_settings
from console.core.tickets import seal_ticket
from console.dictionaries import lookup
from console.dictionaries.lookup import DIVISION_TYPE
from console.logs import labels
from console.logs.catalogue import Snapshot, snapshot
from console.logs.contract import STREAM_LABELS
from console.logs.masks import NAME_COLUMNS, mask_expr, mask_name_expr
from console.logs.search import (
    COLUMN_LABELS,
    OBJ,
    SUMMARY_COLUMNS,
    LogQuery,
    check_query,
    display_columns,
    matching,
)

LogFormat = Literal["csv", "xlsx", "parquet"]
LOG_FORMATS: tuple[LogFormat, ...] = ("csv", "xlsx", "parquet")
MAX_EXPORT_ROWS = 5_000_000
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": XLSX_MIME,
    "parquet": "application/vnd.apache.parquet",
}
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class LogExport:
    """A prepared export: what the file is called, its size in rows, and its bytes to come."""

    filename: str
    media_type: str
    rows: int
    chunks: Iterator[bytes]


def export_days(snap: Snapshot, query: LogQuery) -> list[date]:
    """The days holding events of the stream within the query's range, oldest first."""
    held = snap.sealed_days(query.stream) | snap.pending_days(query.stream)
    days = sorted(date.fromisoformat(day) for day in held)
    return [
        day
        for day in days
        if (query.start is None or day >= query.start) and (query.end is None or day <= query.end)
    ]


def _day_frames(snap: Snapshot, query: LogQuery, actor: Actor) -> Iterator[pl.LazyFrame]:
    for day in export_days(snap, query):
        one_day = dataclasses.replace(query, start=day, end=day)
        found = matching(snap.lake, one_day, actor, snap=snap)
        if found is not None:
            yield found.sort("ts", "event_id")


def _text_batches(
    snap: Snapshot, query: LogQuery, actor: Actor, *, typed: bool = False
) -> Iterator[pl.DataFrame]:
    """The file's rows: shown columns, each code column followed by its name column."""
    names = [labels.name_expr(c) for c in _named(query.stream)]
    tenants = lookup.labels(DIVISION_TYPE)
    tenant_name = pl.col("tenant").replace_strict(tenants, default="", return_dtype=pl.String)
    for frame in _day_frames(snap, query, actor):
        columns = frame.collect_schema().names()
        shown = frame.select(display_columns(query.stream, columns, typed=typed))
        yield (
            shown.with_columns(*names, tenant_name.alias(f"tenant{labels.NAME_SUFFIX}"))
            .select(_names(query.stream))
            .collect()
        )


def _named(stream: str) -> list[str]:
    """The stream's code columns that get a name column in a file (booleans are typed)."""
    return [c for c in SUMMARY_COLUMNS[stream] if c in labels.LABELLED_COLUMNS and c != "success"]


def _names(stream: str) -> list[str]:
    """The file's columns: every code column followed by its name (租户, 租户名称 …)."""
    named = set(_named(stream))
    columns = ["time", "tenant", f"tenant{labels.NAME_SUFFIX}", "event_id"]
    for column in SUMMARY_COLUMNS[stream]:
        columns += [column, f"{column}{labels.NAME_SUFFIX}"] if column in named else [column]
    return columns


def _header(column: str) -> str:
    base = column.removesuffix(labels.NAME_SUFFIX)
    if base != column:
        return f"{COLUMN_LABELS.get(base, base)}{labels.NAME_SUFFIX}"
    return COLUMN_LABELS.get(column, column)


def _csv(snap: Snapshot, query: LogQuery, actor: Actor) -> Iterator[bytes]:
    headers = [_header(n) for n in _names(query.stream)]
    yield BOM + ",".join(headers).encode("utf-8") + b"\n"
    for batch in _text_batches(snap, query, actor):
        yield csv_chunk(batch, header=False)


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def _temporary(suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix="bdc-export-", suffix=suffix)
    os.close(handle)
    return Path(name)


def _xlsx(snap: Snapshot, query: LogQuery, actor: Actor) -> Iterator[bytes]:
    path = _temporary(".xlsx")
    headers = [_header(n) for n in _names(query.stream)]
    batches = _text_batches(snap, query, actor, typed=True)  # time, numbers as typed cells
    rows = (row for batch in batches for row in batch.iter_rows())
    write_xlsx(path, headers, rows, sheet=STREAM_LABELS[query.stream])
    yield from _file_chunks(path)


def _parquet(snap: Snapshot, query: LogQuery, actor: Actor) -> Iterator[bytes]:
    """Typed columns (time as a timestamp, latency as an integer), text masked; no raw line."""
    path = _temporary(".parquet")
    frames = []
    for frame in _day_frames(snap, query, actor):
        # Never the line as sent: not in the clear, not as ciphertext, not as digests.
        frame = frame.drop("raw", "raw_enc", "pii", "sender", strict=False)
        text = [n for n, kind in frame.collect_schema().items() if kind == pl.String]
        frames.append(frame.with_columns(_masked(n) for n in text))
    if frames:
        pl.concat(frames, how="diagonal_relaxed").sink_parquet(path, compression="zstd")
    else:
        pl.DataFrame().write_parquet(path)
    yield from _file_chunks(path)


def _masked(column: str) -> pl.Expr:
    text = pl.col(column)
    return (mask_name_expr(text) if column in NAME_COLUMNS else mask_expr(text)).alias(column)


_WRITERS = {"csv": _csv, "xlsx": _xlsx, "parquet": _parquet}


def check_export(*, actor: Actor, query: LogQuery, fmt: str, snap: Snapshot | None = None) -> int:
    """Refuse an export the actor may not make or that is too large; its row count."""
    authz.require(actor, OBJ, "export", target=query.stream)
    check_query(query)
    if fmt not in LOG_FORMATS:
        raise ValidationFailed(f"应为 {'、'.join(LOG_FORMATS)} 之一", field="导出格式")
    found = matching(get_settings().lake_dir, query, actor, snap=snap)
    rows = 0 if found is None else int(found.select(pl.len()).collect().item())
    if rows > MAX_EXPORT_ROWS:
        raise ValidationFailed(
            f"共 {rows:,} 条，超过单次导出上限 {MAX_EXPORT_ROWS:,} 条，请缩小时间范围或增加条件",
            field="导出",
        )
    return rows


def export_logs(*, session: Session, actor: Actor, query: LogQuery, fmt: str) -> LogExport:
    """Check, count and record an export; its bytes are produced as the caller reads them.

    The count and the file read one snapshot of the lake, held until the file is written:
    the file holds exactly the counted events (not the export's own record, nor events that
    arrive while it is sent), however sealing moves them meanwhile.
    """
    held = ExitStack()
    snap = held.enter_context(snapshot(get_settings().lake_dir))
    try:
        rows = check_export(actor=actor, query=query, fmt=fmt, snap=snap)
    except BaseException:
        held.close()
        raise
    record(
        session,
        actor=actor,
        obj=OBJ,
        action="export",
        target=query.stream,
        detail={
            "rows": rows,
            "format": fmt,
            "query": {k: str(v) for k, v in vars(query).items() if v},
        },
    )
    filename = f"{STREAM_LABELS[query.stream]}.{fmt}"
    chunks = _released(_WRITERS[fmt](snap, query, actor), held)
    weakref.finalize(chunks, held.close)  # a response never read lets the snapshot go too
    return LogExport(filename, MEDIA_TYPES[fmt], rows, chunks)


def _released(chunks: Iterator[bytes], held: ExitStack) -> Iterator[bytes]:
    """The file's bytes; the snapshot is let go once they are written (or the reader left)."""
    with held:
        yield from chunks


def issue_ticket(*, session_token: str, query: LogQuery, fmt: str, now: float) -> str:
    """A sealed ticket for a browser to fetch this export by URL (see ``core.tickets``)."""
    fields = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(query).items()}
    return seal_ticket(session_token=session_token, payload={"q": fields, "f": fmt}, now=now)


def log_ticket_query(payload: dict[str, Any]) -> tuple[LogQuery, str]:
    """(query, format) from the payload of a ticket made by ``issue_ticket``."""
    fields = dict(payload["q"])
    for key in ("start", "end"):
        fields[key] = date.fromisoformat(fields[key]) if fields[key] else None
    return LogQuery(**fields), payload["f"]
