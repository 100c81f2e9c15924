"""The console's own operations and errors go into the lake through the same store.

``install()`` (called by the app at start-up) subscribes to the operations ``audit.record``
wrote once their transaction commits, so a rolled-back write never appears as done.
``exception_sink`` is the loguru sink the app hands to ``configure_logging``: records at
ERROR and above become ``exception`` events.
"""

from __future__ import annotations

import json
import threading
import traceback
import uuid
from typing import Any

from loguru import logger

from console.audit.models import OperationLog
from console.audit.service import on_committed
from console.core.clock import local_day, utcnow
from console.core.settings import get_settings
from console.core.syslog import forward
from console.logs.contract import LEVELS, CheckedEvent
from console.logs.store import store_for

SENDER = "console:self"
_inside_sink = threading.local()


def install() -> None:
    """Send every committed operation to the ``operation`` stream (idempotent)."""
    on_committed(_append_operations)


def _event(record: dict[str, Any]) -> CheckedEvent:
    ts = record["ts"]
    line = json.dumps({**record, "ts": ts.isoformat()}, ensure_ascii=False, default=str)
    day = local_day(ts).isoformat()
    return CheckedEvent(record["event_id"], ts, day, record["tenant"], line)


def _operation(entry: OperationLog, province: str) -> CheckedEvent:
    return _event(
        {
            "event_id": uuid.uuid4().hex,
            "ts": entry.ts,
            "tenant": entry.tenant_code or province,
            "actor": entry.actor_account,
            "action": entry.action,
            "object": entry.object,
            "outcome": entry.outcome,
            "target": entry.target,
            "detail": entry.detail,
            "ip": entry.client_ip,
            "trace_id": entry.request_id,
        }
    )


def _append_operations(entries: list[OperationLog]) -> None:
    settings = get_settings()
    try:
        events = [_operation(e, settings.province_code) for e in entries]
        stored = store_for(settings.lake_dir).append(
            stream="operation", sender=SENDER, events=events
        )
        forward("operation", list(stored.stored))
    except Exception:  # the config DB keeps its copy; the failure itself must be seen
        logger.exception("operation log could not be appended to the lake")


def exception_sink(message: Any) -> None:
    """Loguru sink: an ERROR (or worse) record becomes an ``exception`` event."""
    if getattr(_inside_sink, "active", False):
        return  # a failure while storing an error must not loop
    _inside_sink.active = True
    try:
        record = message.record
        settings = get_settings()
        failure = record["exception"]
        event_ = _event(
            {
                "event_id": uuid.uuid4().hex,
                "ts": utcnow(),
                "tenant": settings.province_code,
                "source": f"console:{record['name']}",
                "level": record["level"].name if record["level"].name in LEVELS else "ERROR",
                "message": record["message"][:4000],
                "trace_id": record["extra"].get("request_id", ""),
                "stack": "".join(_format(failure))[:20000] if failure else "",
            }
        )
        stored = store_for(settings.lake_dir).append(
            stream="exception", sender=SENDER, events=[event_]
        )
        forward("exception", list(stored.stored))
    except Exception as error:  # never raise from a log sink
        print(f"exception log could not be appended to the lake: {error}")
    finally:
        _inside_sink.active = False


def _format(failure: Any) -> list[str]:
    return traceback.format_exception(failure.type, failure.value, failure.traceback)
