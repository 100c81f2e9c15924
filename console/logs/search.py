"""Search the lake (sealed Parquet days plus the events not sealed yet), trace a case, export.

Everything is a Polars lazy query over the stream's files, narrowed by day partitions and
row-group statistics, collected once; the tenant scope of the actor is part of every query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import polars as pl
from sqlmodel import Session

from console.authz import service as authz
from console.core.actor import Actor
from console.core.clock import CHINA_TZ
from console.core.errors import ValidationFailed
from console.core.paging import Page, PageRequest
from console.core.settings import get_settings
from console.logs import case_index, pending
from console.logs.at_rest import is_exact_number, number_digest
from console.logs.catalogue import Snapshot, snapshot
from console.logs.contract import STREAMS
from console.logs.labels import CHANNEL_LABELS, STEP_LABELS, shown
from console.logs.masks import NAME_COLUMNS, mask_expr, mask_name_expr, mask_texts
from console.logs.own import SENDER as OWN_SENDER
from console.logs.seal import decode_chunks
from console.tenancy.scope import restrict_frame

OBJ = "audit.logs"
MAX_RANGE_DAYS = 400
# Text columns shown per stream, after time, tenant and event id.
SUMMARY_COLUMNS = {
    "operation": (
        "source_key", "actor", "action", "object", "outcome", "case_no", "trace_id", "detail",
    ),
    "interface_call": (
        "department", "interface_code", "case_no", "trace_id", "caller", "duration_ms",
        "result_code", "success", "retry", "error",
    ),
    "exception": ("source", "level", "message", "trace_id"),
    "case_event": ("case_no", "business_code", "registration_type", "channel", "step", "operator"),
}  # fmt: skip
COLUMN_LABELS = {
    "time": "时间", "tenant": "租户", "event_id": "事件编号",
    "actor": "操作人", "action": "操作", "object": "对象", "outcome": "结果", "case_no": "受理编号",
    "trace_id": "追踪号", "detail": "详情", "department": "部门", "interface_code": "接口",
    "caller": "调用方", "duration_ms": "耗时（毫秒）", "result_code": "结果码", "success": "成功",
    "retry": "重试", "error": "错误", "source": "来源", "level": "级别", "message": "消息",
    "business_code": "业务代码", "registration_type": "登记类型", "channel": "渠道",
    "step": "环节", "operator": "经办人", "source_key": "来源",
}  # fmt: skip
# Columns the contract holds to a code, number or choice: they cannot carry personal data.
CHECKED_COLUMNS = frozenset(
    {"business_code", "registration_type", "channel", "step", "success", "duration_ms", "retry",
     "level", "outcome", "source_key"}
)  # fmt: skip


@dataclass(frozen=True)
class LogQuery:
    """What an auditor is looking for; every field but the stream is optional."""

    stream: str
    start: date | None = None  # Asia/Shanghai days, inclusive
    end: date | None = None
    tenant: str = ""
    actor: str = ""
    interface_code: str = ""
    department: str = ""
    result: str = ""  # success / failure (interface calls) or an operation outcome
    case_no: str = ""
    trace_id: str = ""
    text: str = ""


@dataclass(frozen=True)
class LogRow:
    """One event as the result table shows it (personal data masked)."""

    time: str
    tenant: str
    event_id: str
    fields: dict[str, str]


def trace_url(case_no: str) -> str:
    """Where a case's timeline opens: 日志审计 with the case number handed over."""
    return f"/audit?trace={quote(case_no, safe='')}"


def search_url(stream: str, start: date, end: date, **filters: str) -> str:
    """日志审计 searching ``stream`` over the days with the given filters (a drill-down)."""
    wanted = {"stream": stream, "start": start.isoformat(), "end": end.isoformat(), **filters}
    return "/audit?" + urlencode({k: v for k, v in wanted.items() if v})


# Columns a spreadsheet should hold as numbers or booleans (typed cells in an XLSX export).
TYPED_COLUMNS = frozenset({"duration_ms", "retry", "success"})


def display_columns(stream: str, columns: list[str], *, typed: bool = False) -> list[pl.Expr]:
    """Time (Beijing), tenant, event id and the stream's summary columns as masked text.

    ``typed``: the time as a Beijing datetime and the numbers and booleans as themselves.
    """
    shown = [c for c in SUMMARY_COLUMNS[stream] if c in columns]
    local = pl.col("ts").dt.convert_time_zone(CHINA_TZ.key)
    time = local.dt.replace_time_zone(None) if typed else local.dt.strftime("%Y-%m-%d %H:%M:%S")
    return [
        time.alias("time"),
        pl.col("tenant"),
        pl.col("event_id"),
        *[pl.col(c) if typed and c in TYPED_COLUMNS else _shown(c) for c in shown],
    ]


def _shown(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).fill_null("")
    if column in NAME_COLUMNS:
        return mask_name_expr(text).alias(column)
    return (text if column in CHECKED_COLUMNS else mask_expr(text)).alias(column)


def check_query(query: LogQuery) -> None:
    """Refuse an unknown stream or a bad or too long time range, naming the field."""
    if query.stream not in STREAMS:
        raise ValidationFailed(f"应为 {'、'.join(STREAMS)} 之一", field="日志类型")
    if query.start and query.end:
        if query.end < query.start:
            raise ValidationFailed("结束日期不能早于开始日期", field="时间范围")
        if (query.end - query.start).days > MAX_RANGE_DAYS:
            raise ValidationFailed(f"一次最多查询 {MAX_RANGE_DAYS} 天", field="时间范围")


def _pending(snap: Snapshot, stream: str, query: LogQuery) -> pl.LazyFrame | None:
    """The snapshot's unsealed events of the query's days, read and decoded chunk by chunk."""
    if snap.db is None:
        return None
    start = query.start.isoformat() if query.start else None
    end = query.end.isoformat() if query.end else None
    decoded = decode_chunks(stream, pending.chunks_between(snap.db, stream, start, end))
    return None if decoded is None else decoded.drop("_rowid").lazy()


def _sealed(
    snap: Snapshot, stream: str, query: LogQuery, days: list[str] | None = None
) -> pl.LazyFrame | None:
    return snap.sealed(
        stream,
        low=query.start.isoformat() if query.start else None,
        high=query.end.isoformat() if query.end else None,
        days=days,
    )


def _source(
    lake: Path, query: LogQuery, days: list[str] | None, snap: Snapshot | None
) -> pl.LazyFrame | None:
    """The sealed parts and the pending events of one snapshot: every event exactly once."""
    if snap is None:
        with snapshot(lake) as own:
            return _source(lake, query, days, own)
    found = [_sealed(snap, query.stream, query, days), _pending(snap, query.stream, query)]
    parts = [part for part in found if part is not None]
    if not parts:
        return None
    source = pl.concat(parts, how="diagonal_relaxed")
    if query.stream == "operation":  # pushed records never pass for the console's own
        source = source.with_columns(source_of(pl.col("sender")).alias("source_key"))
    return source


def source_of(sender: pl.Expr) -> pl.Expr:
    """Who wrote an operation record: the console itself, or the key that pushed it."""
    pushed = pl.concat_str([pl.lit("推送（"), sender.fill_null("未知"), pl.lit("）")])
    return pl.when(sender == OWN_SENDER).then(pl.lit("控制台")).otherwise(pushed)


def _day_bounds(query: LogQuery) -> list[pl.Expr]:
    bounds = []
    if query.start:
        start = datetime.combine(query.start, datetime.min.time(), CHINA_TZ).astimezone(UTC)
        bounds.append(pl.col("ts") >= start)
    if query.end:
        next_day = query.end + timedelta(days=1)
        end = datetime.combine(next_day, datetime.min.time(), CHINA_TZ).astimezone(UTC)
        bounds.append(pl.col("ts") < end)
    return bounds


def _filters(query: LogQuery, columns: list[str]) -> list[pl.Expr]:
    exprs = _day_bounds(query)
    exact = {
        "tenant": query.tenant,
        "interface_code": query.interface_code,
        "department": query.department,
        "case_no": query.case_no,
        "trace_id": query.trace_id,
        "actor": query.actor,
    }
    for column, wanted in exact.items():
        if wanted:
            exprs.append(pl.col(column) == wanted if column in columns else pl.lit(False))
    if query.result:
        if "success" in columns:
            exprs.append(pl.col("success") == (query.result == "success"))
        elif "outcome" in columns:
            exprs.append(pl.col("outcome") == query.result)
    if query.text and is_exact_number(query.text):
        exprs.append(_whole_number(query.text.strip(), columns))
    elif query.text:
        # Only what the searcher may see: the line as masked on screen, so the hidden digits
        # of 138****5678 cannot be recovered by searching for them (nobody may unmask logs).
        exprs.append(mask_expr(pl.col("raw")).str.contains(query.text, literal=True))
    return exprs


def _whole_number(number: str, columns: list[str]) -> pl.Expr:
    """A whole ID or mobile number: by its keyed digest in sealed lines, as text in pending ones.

    Finding the lines of a number one already knows reveals no hidden digit; a part of a
    number still matches only the masked text.
    """
    # The whole number, not inside a longer run of digits; X in either case.
    as_text = pl.col("raw").str.contains(f"(?i)(?:^|[^0-9]){re.escape(number)}(?:$|[^0-9])")
    if "pii" not in columns:
        return as_text
    sealed = pl.col("pii").str.contains(number_digest(number), literal=True)
    # Sealed lines have a digest list (maybe empty); pending and older lines have none.
    return pl.when(pl.col("pii").is_null()).then(as_text).otherwise(sealed)


def matching(
    lake: Path,
    query: LogQuery,
    actor: Actor,
    *,
    days: list[str] | None = None,
    snap: Snapshot | None = None,
) -> pl.LazyFrame | None:
    """The lazy frame of events matching ``query`` in the actor's scope, or None when none.

    ``days`` limits the sealed days read (a trace knows them from the case index); pending
    events are always included. ``snap``: a snapshot already taken (else one of its own).
    """
    source = _source(lake, query, days, snap)
    if source is None:
        return None
    columns = source.collect_schema().names()
    for expr in _filters(query, columns):
        source = source.filter(expr)
    return restrict_frame(source, actor)


def _rows(frame: pl.DataFrame, stream: str) -> list[LogRow]:
    shown = frame.select(display_columns(stream, frame.columns))
    rows = []
    for item in shown.iter_rows(named=True):
        time, tenant, event_id = item.pop("time"), item.pop("tenant"), item.pop("event_id")
        rows.append(LogRow(time=time, tenant=tenant, event_id=event_id, fields=item))
    return rows


def search_logs(
    *, session: Session, actor: Actor, query: LogQuery, page: PageRequest | None = None
) -> Page[LogRow]:
    """Events of one stream matching the query, newest first, in the actor's tenant scope."""
    authz.require(actor, OBJ, "read", target=query.stream)
    check_query(query)
    page = page or PageRequest()
    filtered = matching(get_settings().lake_dir, query, actor)
    if filtered is None:
        return Page([], 0, page.page, page.size)
    total, window = pl.collect_all(
        [
            filtered.select(pl.len()),
            # (sender, event_id) is unique: pages never repeat or skip events of the same time
            filtered.sort(["ts", "sender", "event_id"], descending=True).slice(
                page.offset, page.size
            ),
        ]
    )
    return Page(_rows(window, query.stream), int(total.item()), page.page, page.size)


GAP_DAYS = 3  # a case waiting longer than this between two steps is highlighted


@dataclass(frozen=True)
class TraceEntry:
    """One line of a case's timeline."""

    time: str
    stream: str
    title: str
    detail: str
    failed: bool
    gap_before: str  # "" or how long the case waited before this step


def _title(stream: str, item: dict) -> tuple[str, str, bool]:
    if stream == "case_event":
        step = STEP_LABELS.get(item["step"], item["step"])
        operator = f"（{item['operator']}）" if item.get("operator") else ""
        channel = CHANNEL_LABELS.get(item["channel"], item["channel"])
        business = shown("business_code", item["business_code"])
        return (
            f"办件：{step}",
            f"{channel} · 业务 {business}{operator}",
            item["step"] == "reject",
        )
    if stream == "interface_call":
        retry = f" · 第 {item['retry']} 次重试" if item.get("retry") else ""
        title = f"共享调用：{item['department']} {item['interface_code']}"
        detail = f"{item['duration_ms']} 毫秒 · 结果 {item['result_code']}{retry}"
        if item.get("error"):
            detail += f" · {item['error']}"
        return title, detail, not item["success"]
    if stream == "operation":
        pushed = "" if item.get("sender") == OWN_SENDER else f"（推送：{item.get('sender')}）"
        title = f"操作{pushed}：{item['actor']} {item['action']} {item['object']}"
        return title, item.get("detail") or "", item["outcome"] != "success"
    return f"异常：{item['source']} {item['level']}", item["message"], True


def trace_case(*, session: Session, actor: Actor, case_no: str) -> list[TraceEntry]:
    """Every step, sharing call, operator action and exception of one case, in time order."""
    authz.require(actor, OBJ, "read", target=case_no)
    case_no = case_no.strip()
    if not case_no:
        raise ValidationFailed("请输入受理编号", field="受理编号")
    lake = get_settings().lake_dir
    found: list[tuple[datetime, str, dict]] = []
    trace_ids: set[str] = set()
    # The snapshot is taken before the index is read: the index gains a day before its part
    # becomes current, so every day sealed after this moment is still pending in it.
    with snapshot(lake) as snap:
        days = case_index.days_of(lake, case_no)
        frames = {
            stream: matching(lake, LogQuery(stream=stream, case_no=case_no), actor, days=days,
                             snap=snap)
            for stream in case_index.INDEXED_STREAMS
        }  # fmt: skip
        # An exception is logged when its call fails: the case's days hold it.
        exceptions = matching(lake, LogQuery(stream="exception"), actor, days=days, snap=snap)
    for stream, filtered in frames.items():
        if filtered is None:
            continue
        for item in filtered.collect().iter_rows(named=True):
            found.append((item["ts"], stream, item))
            if item.get("trace_id"):
                trace_ids.add(item["trace_id"])
    if exceptions is not None and trace_ids:
        matched = exceptions.filter(pl.col("trace_id").is_in(sorted(trace_ids))).collect()
        found += [(item["ts"], "exception", item) for item in matched.iter_rows(named=True)]
    # Same-second entries in one order however their files were sealed or merged: a step, the
    # call it made, the exception the failed call raised.
    rank = {name: n for n, name in enumerate((*case_index.INDEXED_STREAMS, "exception"))}
    found.sort(key=lambda entry: (entry[0], rank[entry[1]], entry[2].get("event_id") or ""))
    return _timeline(found)


def _timeline(found: list[tuple[datetime, str, dict]]) -> list[TraceEntry]:
    entries: list[TraceEntry] = []
    last_step: datetime | None = None
    described = [_title(stream, item) for _, stream, item in found]
    masked = mask_texts([text for title, detail, _ in described for text in (title, detail)])
    for index, (ts, stream, _item) in enumerate(found):
        title, detail = masked[2 * index], masked[2 * index + 1]
        failed = described[index][2]
        gap = ""
        if stream == "case_event":
            if last_step is not None and ts - last_step > timedelta(days=GAP_DAYS):
                gap = f"距上一步 {(ts - last_step).days} 天"
            last_step = ts
        entries.append(
            TraceEntry(
                time=ts.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                stream=stream,
                title=title,
                detail=detail,
                failed=failed,
                gap_before=gap,
            )
        )
    return entries
