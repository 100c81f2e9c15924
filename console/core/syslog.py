"""The operation and exception streams forwarded, as they are written, to a syslog collector.

Each record becomes one RFC 5424 message sent over TCP with RFC 6587 octet-counting framing
(``tcp://host:port``) or over TLS per RFC 5425 (``tls://host:port``, certificate and host
name checked). The lake stays the record of truth; the collector (a province's SIEM) gets a
copy, at least once while it is reachable and best effort across its outages.

The message:

* PRI: operations use facility 13 (log audit) with severity 5 (notice) for ``success`` and 4
  (warning) for ``failure`` or ``denied``; exceptions use facility 1 (user-level) with the
  record's level (CRITICAL 2, ERROR 3, WARNING 4, INFO 6, DEBUG 7).
* TIMESTAMP: the record's ``ts`` in Beijing time with its offset, to the microsecond.
* HOSTNAME, APP-NAME ``bdc-console``, PROCID (this process), MSGID (the stream's name).
* STRUCTURED-DATA ``[bdc@32473 stream="…" tenant="…" event_id="…"]``; 32473 is the Private
  Enterprise Number that RFC 5612 reserves for documentation, so the SD-ID cannot collide with
  a registered one.
* MSG: a UTF-8 BOM and the record's JSON line exactly as stored.

``submit`` only appends to a bounded in-memory queue; a daemon thread does all the work.
When the queue is full the OLDEST record is dropped and counted: every record is already
stored durably in the lake, and a SIEM alerting on the present needs the newest records
first once the collector is back. Syslog over TCP has no acknowledgements: a record the kernel
accepted just before the connection broke can be lost, and a batch whose write failed is sent
again whole, so a record may arrive twice (the SIEM can deduplicate on ``event_id``).
"""

from __future__ import annotations

import atexit
import os
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import msgspec
from loguru import logger

from console.core import metrics
from console.core.clock import CHINA_TZ
from console.core.settings import get_settings

FORWARDED_STREAMS = ("operation", "exception")
APP_NAME = "bdc-console"
SD_ID = "bdc@32473"  # 32473: the documentation PEN of RFC 5612
BOM = b"\xef\xbb\xbf"

FACILITY_USER = 1
FACILITY_LOG_AUDIT = 13
OUTCOME_SEVERITY = {"success": 5, "failure": 4, "denied": 4}
LEVEL_SEVERITY = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}
DEFAULT_SEVERITY = {"operation": 5, "exception": 3}

BACKOFF_FIRST = 0.5  # seconds before the first reconnection attempt; doubled each failure
BACKOFF_MAX = 30.0
CONNECT_TIMEOUT = 5.0
SEND_TIMEOUT = 10.0  # a collector that stops reading must not hold the sender forever
IDLE_POLL = 0.5  # how often an idle sender looks whether the collector closed the connection
BATCH_RECORDS = 500
BATCH_BYTES = 256 * 1024
CLOSE_DEADLINE = 2.0


class ForwardedEvent(Protocol):
    """What a stored record offers the forwarder (``console.logs.contract.CheckedEvent``)."""

    @property
    def event_id(self) -> str:
        """The sender's id of the record."""
        ...

    @property
    def ts(self) -> datetime:
        """When it happened (timezone-aware)."""
        ...

    @property
    def tenant(self) -> str:
        """The tenant's six-digit code."""
        ...

    @property
    def line(self) -> str:
        """The JSON line as stored."""
        ...


@dataclass(frozen=True, slots=True)
class SyslogRecord:
    """One record waiting in the queue: the stream, its identity and the JSON line."""

    stream: str
    tenant: str
    event_id: str
    ts: datetime
    line: str


@dataclass(frozen=True, slots=True)
class SyslogStats:
    """The forwarder's counters: waiting, written, dropped, and the collector's state."""

    queued: int
    sent: int
    dropped: int
    connected: bool
    last_error: str


@dataclass(frozen=True, slots=True)
class Target:
    """Where the collector listens and how to reach it."""

    scheme: Literal["tcp", "tls"]
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Target:
        """``tcp://host:port`` or ``tls://host:port`` (an IPv6 host in brackets)."""
        scheme, sep, rest = text.partition("://")
        host, colon, port = rest.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if scheme not in ("tcp", "tls") or not sep or not colon or not host:
            raise ValueError(f"syslog 收集器地址格式不正确：{text}（应为 tcp://主机:端口）")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"syslog 收集器端口不正确：{text}")
        return cls("tls" if scheme == "tls" else "tcp", host, int(port))

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


class _Levels(msgspec.Struct):
    """The two fields of a line that decide its severity (the rest is skipped)."""

    outcome: object = None
    level: object = None


_LEVELS = msgspec.json.Decoder(_Levels)


def severity(stream: str, line: str) -> int:
    """RFC 5424 severity of a record: from an operation's outcome or an exception's level."""
    try:
        fields = _LEVELS.decode(line)
    except msgspec.MsgspecError:
        return DEFAULT_SEVERITY.get(stream, 5)
    if stream == "operation" and isinstance(fields.outcome, str):
        return OUTCOME_SEVERITY.get(fields.outcome, 5)
    if stream == "exception" and isinstance(fields.level, str):
        return LEVEL_SEVERITY.get(fields.level.upper(), 3)
    return DEFAULT_SEVERITY.get(stream, 5)


def priority(stream: str, line: str) -> int:
    """PRI = facility × 8 + severity (log audit for operations, user-level otherwise)."""
    facility = FACILITY_LOG_AUDIT if stream == "operation" else FACILITY_USER
    return facility * 8 + severity(stream, line)


def escape_param(value: str) -> str:
    r"""A PARAM-VALUE with ``"``, ``\`` and ``]`` escaped as RFC 5424 section 6.3.3 requires."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_field(value: str, limit: int) -> str:
    """A header field as RFC 5424 allows it: printable US-ASCII, bounded, ``-`` when empty."""
    kept = "".join(ch for ch in value if 33 <= ord(ch) <= 126)[:limit]
    return kept or "-"


def timestamp(moment: datetime) -> str:
    """RFC 3339 time with offset (Beijing time) to the microsecond, as RFC 5424 allows."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the lake's moments are UTC
    return moment.astimezone(CHINA_TZ).isoformat(timespec="microseconds")


def format_message(record: SyslogRecord, *, hostname: str, procid: str) -> bytes:
    """One RFC 5424 message (without framing) for a stored record."""
    sd = (
        f'[{SD_ID} stream="{escape_param(record.stream)}" '
        f'tenant="{escape_param(record.tenant)}" event_id="{escape_param(record.event_id)}"]'
    )
    header = " ".join(
        (
            f"<{priority(record.stream, record.line)}>1",
            timestamp(record.ts),
            _header_field(hostname, 255),
            APP_NAME,
            _header_field(procid, 128),
            _header_field(record.stream, 32),
            sd,
        )
    )
    # "replace": a lone surrogate cannot be sent as UTF-8, and the rest of the line still can.
    return f"{header} ".encode() + BOM + record.line.encode("utf-8", "replace")


def frame(message: bytes) -> bytes:
    """RFC 6587 octet-counting: the message's length in bytes, a space, the message."""
    return b"%d %s" % (len(message), message)


def _describe(error: BaseException) -> str:
    """A short reason for an operator: the OS's or OpenSSL's own words."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"证书校验失败（{error.verify_message or error.reason}）"
    if isinstance(error, TimeoutError):
        return "超时"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


class Forwarder:
    """A bounded queue and a daemon thread that writes it to one syslog collector."""

    def __init__(
        self,
        target: str,
        *,
        ca_file: str = "",
        queue_max: int = 10_000,
        backoff_max: float = BACKOFF_MAX,
    ) -> None:
        self.target = Target.parse(target)
        self.ca_file = ca_file
        self.queue_max = max(1, queue_max)
        self.backoff_max = backoff_max
        self._hostname = socket.gethostname()
        self._lock = threading.Lock()
        self._queue: deque[SyslogRecord] = deque()
        self._inflight: list[SyslogRecord] = []
        self._sent = 0
        self._dropped = 0
        self._connected = False
        self._last_error = ""
        self._conn: socket.socket | None = None
        self._wake = threading.Event()  # set by submit: records are waiting
        self._stop = threading.Event()  # set by close: flush what can be sent, then end
        self._deadline = float("inf")
        self._thread = threading.Thread(target=self._run, name="syslog-forwarder", daemon=True)
        self._thread.start()

    # -- the caller's side: never blocks beyond a few list operations ----------------------

    def submit(self, stream: str, event: ForwardedEvent) -> None:
        """Queue one stored record; when the queue is full the oldest waiting one is dropped."""
        record = SyslogRecord(stream, event.tenant, event.event_id, event.ts, event.line)
        dropped = False
        with self._lock:
            if len(self._queue) + len(self._inflight) < self.queue_max:
                self._queue.append(record)
            else:
                self._dropped += 1
                dropped = True
                if self._queue:  # else everything held is being written: the newcomer goes
                    self._queue.popleft()
                    self._queue.append(record)
        if dropped:  # counted for /metrics outside the lock (recording may log)
            metrics.record_syslog(outcome="dropped", count=1)
        self._wake.set()

    def stats(self) -> SyslogStats:
        """Queued (waiting or being written), sent, dropped, connected, the last error."""
        with self._lock:
            return SyslogStats(
                queued=len(self._queue) + len(self._inflight),
                sent=self._sent,
                dropped=self._dropped,
                connected=self._connected,
                last_error=self._last_error,
            )

    def close(self, deadline: float = CLOSE_DEADLINE) -> None:
        """Send what is queued while the collector answers, for at most ``deadline`` seconds."""
        self._deadline = time.monotonic() + deadline
        self._stop.set()
        self._wake.set()
        if deadline > 0:  # 0: stop without waiting (a replaced forwarder ends on its own)
            self._thread.join(deadline + 1.0)

    # -- the sender thread -----------------------------------------------------------------

    def _run(self) -> None:
        delay = BACKOFF_FIRST
        while not self._finished():
            try:
                delay = self._step(delay)
            except Exception:  # a bug must be seen, and must not end forwarding for good
                logger.opt(exception=True).warning("syslog 转发出错，稍后重试")
                self._requeue()
                self._disconnect()
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
        self._disconnect()
        with self._lock:
            self._connected = False

    def _step(self, delay: float) -> float:
        """Connect, or write one batch, or wait; the back-off delay for the next failure."""
        if self._conn is None:
            if self._connect():
                return BACKOFF_FIRST
            if self._stop.is_set():
                self._deadline = 0.0  # closing with the collector down: nothing can be flushed
            self._stop.wait(delay)  # submissions do not cut the back-off short
            return min(delay * 2, self.backoff_max)
        if self._peer_gone():
            self._lost(f"syslog 收集器 {self.target} 关闭了连接")
            return delay
        batch = self._take()
        if batch:
            self._send(batch)
        elif not self._stop.is_set():
            self._wake.wait(IDLE_POLL)
        return delay

    def _finished(self) -> bool:
        if not self._stop.is_set():
            return False
        with self._lock:
            empty = not self._queue
        return empty or time.monotonic() >= self._deadline

    def _connect(self) -> bool:
        """Open the connection (TLS with certificate and host name checks); False on failure."""
        target = self.target
        try:
            raw = socket.create_connection((target.host, target.port), timeout=CONNECT_TIMEOUT)
        except OSError as error:
            return self._failed(f"无法连接 syslog 收集器 {target}：{_describe(error)}")
        try:
            conn = self._secure(raw) if target.scheme == "tls" else raw
        except (OSError, ValueError) as error:
            raw.close()
            return self._failed(f"与 syslog 收集器 {target} 建立 TLS 连接失败：{_describe(error)}")
        conn.settimeout(SEND_TIMEOUT)
        self._conn = conn
        with self._lock:
            self._connected = True
            dropped = self._dropped
        logger.info("syslog 转发已连接 {}（累计丢弃 {} 条）", target, dropped)
        return True

    def _secure(self, raw: socket.socket) -> ssl.SSLSocket:
        """RFC 5425: TLS, the collector's certificate checked against the CA and host name."""
        try:
            context = ssl.create_default_context(cafile=self.ca_file or None)
        except OSError as error:
            raise OSError(f"无法读取 CA 证书文件 {self.ca_file}：{_describe(error)}") from error
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context.wrap_socket(raw, server_hostname=self.target.host)

    def _failed(self, reason: str) -> bool:
        """Note a failed attempt; the first of an outage goes to the runtime log too."""
        with self._lock:
            first = self._connected or not self._last_error
            self._connected = False
            self._last_error = reason
        if first:
            logger.warning("{}；记录在内存队列中等待（最多 {} 条）", reason, self.queue_max)
        return False

    def _peer_gone(self) -> bool:
        """Whether the collector closed the connection (checked before writing to it)."""
        conn = self._conn
        if conn is None:
            return True
        try:
            readable, _, _ = select.select([conn], [], [], 0)
            if not readable:
                return False
            conn.setblocking(False)
            # A collector sends nothing but TLS records (session tickets): b"" is its close.
            return conn.recv(4096) == b""
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except OSError:
            return True
        finally:
            conn.settimeout(SEND_TIMEOUT)

    def _take(self) -> list[SyslogRecord]:
        """Move the oldest waiting records (a bounded batch) in flight; [] when none wait."""
        with self._lock:
            if not self._queue:
                self._wake.clear()  # cleared under the lock: a later submit sets it again
                return []
            size = 0
            while self._queue and len(self._inflight) < BATCH_RECORDS and size < BATCH_BYTES:
                record = self._queue.popleft()
                self._inflight.append(record)
                size += len(record.line)
            return list(self._inflight)

    def _send(self, batch: list[SyslogRecord]) -> None:
        """Write a batch; on failure put it back in front of the queue and reconnect."""
        data = self._frames(batch)
        assert self._conn is not None
        try:
            self._conn.sendall(data)
        except OSError as error:
            self._requeue()
            self._lost(f"向 syslog 收集器 {self.target} 发送失败：{_describe(error)}")
            return
        with self._lock:
            sent = len(self._inflight)
            self._sent += sent
            self._inflight.clear()
        metrics.record_syslog(outcome="sent", count=sent)

    def _frames(self, batch: list[SyslogRecord]) -> bytes:
        """The batch framed; a record that cannot be formatted is dropped, not retried forever."""
        procid = str(os.getpid())
        frames: list[bytes] = []
        for record in batch:
            try:
                frames.append(frame(format_message(record, hostname=self._hostname, procid=procid)))
            except Exception:
                logger.opt(exception=True).warning(
                    "syslog 转发：记录 {} 无法格式化", record.event_id
                )
                with self._lock:
                    self._inflight.remove(record)
                    self._dropped += 1
                metrics.record_syslog(outcome="dropped", count=1)
        return b"".join(frames)

    def _requeue(self) -> None:
        """Put the batch in flight back in front; beyond the limit the oldest are dropped."""
        dropped = 0
        with self._lock:
            self._queue.extendleft(reversed(self._inflight))
            self._inflight.clear()
            while len(self._queue) > self.queue_max:
                self._queue.popleft()
                dropped += 1
            self._dropped += dropped
        if dropped:
            metrics.record_syslog(outcome="dropped", count=dropped)

    def _lost(self, reason: str) -> None:
        self._disconnect()
        self._failed(reason)

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if isinstance(conn, ssl.SSLSocket):
                conn.settimeout(0.5)
                conn.unwrap()  # close_notify, so the collector sees a clean end
        except (OSError, ValueError):
            pass  # the connection is going away either way
        finally:
            conn.close()


_process: tuple[tuple[str, str, int], Forwarder] | None = None
_process_lock = threading.Lock()


def _forget_inherited() -> None:
    """In a forked child: the parent's thread is not there, nor may its lock be free."""
    global _process, _process_lock
    _process, _process_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_inherited)


def process_forwarder() -> Forwarder | None:
    """The process's forwarder, started on first use when ``BDC_SYSLOG_TARGET`` is set."""
    global _process
    settings = get_settings()
    if not settings.syslog_target:
        return None
    key = (settings.syslog_target, settings.syslog_ca_file, settings.syslog_queue_max)
    current = _process
    if current is not None and current[0] == key:
        return current[1]
    with _process_lock:
        if _process is None or _process[0] != key:
            if _process is not None:
                _process[1].close(deadline=0)  # the settings changed (tests): the old one ends
            forwarder = Forwarder(
                settings.syslog_target,
                ca_file=settings.syslog_ca_file,
                queue_max=settings.syslog_queue_max,
            )
            _process = (key, forwarder)
        return _process[1]


def forward(stream: str, events: Sequence[ForwardedEvent]) -> None:
    """Hand stored records of the operation and exception streams to the collector's queue."""
    if stream not in FORWARDED_STREAMS or not events:
        return
    try:
        forwarder = process_forwarder()
        if forwarder is None:
            return
        for event in events:
            forwarder.submit(stream, event)
    except Exception:  # the records are stored; forwarding them must never fail the write
        logger.opt(exception=True).warning("syslog 转发：记录未能加入队列")


def forwarder_stats() -> SyslogStats | None:
    """The process forwarder's counters, or None when forwarding is off or not yet started."""
    current = _process
    return current[1].stats() if current is not None else None


def close_forwarder(deadline: float = CLOSE_DEADLINE) -> None:
    """Flush and stop the process forwarder (at exit, and between tests)."""
    global _process
    with _process_lock:
        current, _process = _process, None
    if current is not None:
        current[1].close(deadline)


atexit.register(close_forwarder)
