"""GET /metrics: Prometheus text summed over processes, gauges read at scrape time, access.

Most tests call the API in process (``create_api``) and parse the answer with
prometheus_client's own parser; counts are compared before and after, since the process's
metrics folder outlives a test. The real console's own scrape is in ``test_metrics_console``
(a file of its own, so these run on either test worker).
"""

from __future__ import annotations

import json
import multiprocessing
import secrets
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from console.alerts.models import Alert, AlertRule, Heartbeat
from console.api.app import create_api
from console.audit.models import OperationLog
from console.backup.models import BackupRun
from console.core import metrics
from console.core.clock import CHINA_TZ, local_day, utcnow
from console.core.db import session_scope
from console.core.settings import get_settings
from console.interfaces.key_service import create_key
from console.logs import pending
from console.logs.models import Verification
from tests.support.world import XIHU, World

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
INGEST_ROUTE = "/api/v1/logs/{stream}"
OUTSIDE = "203.0.113.7"  # TEST-NET-3: not in the default BDC_METRICS_ALLOW
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def parse(text: str) -> Samples:
    """Every sample of a scrape by name and labels (prometheus_client's own parser)."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value, 0 when the series is not there (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def client_from(address: str) -> TestClient:
    """The API in this process, called from ``address``."""
    return TestClient(create_api(), client=(address, 50000))


def scrape(client: TestClient | None = None, **headers: str) -> Samples:
    answer = (client or client_from("127.0.0.1")).get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


def _case_event(event_id: str) -> dict:
    return {
        "event_id": event_id, "ts": datetime.now(CHINA_TZ).isoformat(), "tenant": XIHU,
        "case_no": "XH-2026-001", "business_code": "2000402", "registration_type": "200",
        "channel": "window", "step": "apply", "operator": "张三丰",
    }  # fmt: skip


def _ndjson(*lines: dict | str) -> bytes:
    return b"\n".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)).encode()
        for line in lines
    )


@SQLITE
def test_a_pushed_batch_is_counted_by_outcome_and_timed_by_its_route_template(
    world: World,
) -> None:
    with session_scope() as session:
        key = create_key(
            session, name="登记系统", tenant_code=XIHU, scopes={"logs.case_event"}, created_by="t"
        )
    client = client_from("127.0.0.1")
    ingest = {"stream": "case_event", "tenant": XIHU}
    timed = {"route": INGEST_ROUTE, "method": "POST", "status_class": "2xx"}
    before = scrape(client)
    good = [_case_event(f"m-{secrets.token_hex(4)}") for _ in range(3)]
    no_step = {k: v for k, v in _case_event("m-bad").items() if k != "step"}
    body = _ndjson(*good, "{not json", no_step)
    auth = {"Authorization": f"Bearer {key}"}

    first = client.post("/api/v1/logs/case_event", content=body, headers=auth)
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], len(first.json()["rejected"])) == (3, 2)
    again = client.post("/api/v1/logs/case_event", content=_ndjson(*good[:2]), headers=auth)
    assert again.json()["duplicates"] == 2
    client.get("/api/v1/no-such-route")  # 401 before 404: still timed, as "unmatched"
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("bdc_ingest_events_total", **ingest, outcome="accepted") == 3
    assert delta("bdc_ingest_events_total", **ingest, outcome="rejected") == 2
    assert delta("bdc_ingest_events_total", **ingest, outcome="duplicate") == 2
    assert delta("bdc_http_request_duration_seconds_count", **timed) == 2
    assert delta("bdc_http_request_duration_seconds_bucket", **timed, le="+Inf") == 2
    assert delta("bdc_http_request_duration_seconds_sum", **timed) > 0
    unmatched = {"route": "unmatched", "method": "GET", "status_class": "4xx"}
    assert delta("bdc_http_request_duration_seconds_count", **unmatched) == 1
    routes = {dict(labels).get("route", "") for _, labels in after}
    assert "/metrics" in routes
    assert not [route for route in routes if "case_event" in route or "no-such" in route]


@SQLITE
def test_only_the_token_or_an_allowed_address_may_scrape_and_each_refusal_is_logged(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(24)
    monkeypatch.setenv("BDC_METRICS_TOKEN", token)
    get_settings.cache_clear()
    outside = client_from(OUTSIDE)

    refused = outside.get("/metrics")
    assert refused.status_code == 403
    assert "无权读取监控指标" in refused.json()["detail"]
    wrong = outside.get("/metrics", headers={"Authorization": "Bearer " + token[:-1] + "x"})
    assert wrong.status_code == 403, wrong.text  # once seen as a non-JSON answer under load
    assert wrong.json()["detail"] == "监控令牌不正确"
    assert "bdc_metrics_source_ok" in {
        name for name, _ in scrape(outside, Authorization=f"Bearer {token}")
    }
    assert client_from("127.0.0.1").get("/metrics").status_code == 200  # the default list

    # Behind a trusted proxy the forwarded client counts, not the proxy's own loopback address.
    monkeypatch.setenv("BDC_TRUSTED_PROXIES", "127.0.0.1")
    get_settings.cache_clear()
    proxied = client_from("127.0.0.1").get("/metrics", headers={"X-Forwarded-For": OUTSIDE})
    assert proxied.status_code == 403

    with session_scope() as session:
        denials = session.exec(
            select(OperationLog)
            .where(OperationLog.target == "/metrics", OperationLog.outcome == "denied")
            .order_by(OperationLog.id)  # type: ignore[arg-type]
        ).all()
    assert [(row.client_ip, json.loads(row.detail)["reason"]) for row in denials] == [
        (OUTSIDE, refused.json()["detail"]),
        (OUTSIDE, "监控令牌不正确"),
        (OUTSIDE, refused.json()["detail"]),
    ]


def _pending_row(day: str, received: datetime, event_id: str) -> pending.StoredRow:
    ts_us = int(datetime.fromisoformat(f"{day}T12:00:00+08:00").timestamp() * 1e6)
    return ("operation", "t", event_id, ts_us, day, XIHU, int(received.timestamp() * 1e6), "{}")


def _closed(day: str) -> datetime:
    """When a Beijing day ended."""
    return datetime.fromisoformat(f"{day}T00:00:00+08:00") + timedelta(days=1)


@SQLITE
def test_gauges_state_sealing_lag_chain_check_and_backup_ages(world: World) -> None:
    never = scrape()
    assert value(never, "bdc_sealing_lag_seconds") == 0  # no pending store yet
    assert value(never, "bdc_backup_age_seconds") == float("inf")
    assert value(never, "bdc_backup_verified_age_seconds") == float("inf")
    assert value(never, "bdc_chain_verification_age_seconds") == float("inf")
    assert ("bdc_chain_verification_ok", ()) not in never  # no check yet: nothing to state

    now = utcnow()
    days = [(local_day(now) - timedelta(days=n)).isoformat() for n in (0, 2, 3)]
    today, two_ago, three_ago = days
    db = pending.open_writer(pending.ingest_path(get_settings().lake_dir))
    try:
        pending.insert(
            db,
            [
                _pending_row(today, now - timedelta(hours=5), "today"),  # not closed: no lag
                _pending_row(two_ago, _closed(two_ago) - timedelta(hours=3), "on-time"),
                _pending_row(three_ago, now - timedelta(hours=1), "late"),  # arrived late
            ],
        )
    finally:
        db.close()
    with session_scope() as session:
        session.add(Verification(checked_by="系统", parts=4, breaks=1, summary="断裂",
                                 checked_at=now - timedelta(hours=1)))  # fmt: skip
        session.add(Verification(checked_by="系统", parts=4, breaks=0,
                                 checked_at=now - timedelta(hours=30)))  # fmt: skip
        for kind, hours in (("backup", 2), ("backup", 50), ("verify", 3)):
            session.add(BackupRun(kind=kind, outcome="succeeded",
                                  finished_at=now - timedelta(hours=hours)))  # fmt: skip
        session.add(BackupRun(kind="backup", outcome="failed", finished_at=now))
        rule = AlertRule(name="矩阵", kind="chain_break")
        session.add(rule)
        session.flush()
        for state in ("firing", "acknowledged", "resolved"):
            session.add(Alert(rule_id=rule.id or 0, fingerprint=state, kind="chain_break",
                              subject=state, severity="critical", state=state))  # fmt: skip
        session.add(Heartbeat(id=1, beat_at=now - timedelta(seconds=90)))
    found = scrape()
    after = utcnow()

    def about(name: str, since: datetime) -> None:
        low, high = (now - since).total_seconds(), (after - since).total_seconds()
        assert low - 1 <= value(found, name) <= high + 1, (name, value(found, name))

    # The day two days ago has waited since it closed; the late event only since it arrived.
    about("bdc_sealing_lag_seconds", _closed(two_ago))
    assert value(found, "bdc_chain_verification_ok") == 0  # the newest check found a break
    about("bdc_chain_verification_age_seconds", now - timedelta(hours=1))
    about("bdc_backup_age_seconds", now - timedelta(hours=2))  # the failed run is no backup
    about("bdc_backup_verified_age_seconds", now - timedelta(hours=3))
    assert value(found, "bdc_alerts_open", severity="critical") == 2  # resolved not counted
    assert value(found, "bdc_alerts_open", severity="minor") == 0
    about("bdc_leader_heartbeat_age_seconds", now - timedelta(seconds=90))
    for source in ("sealing", "chain", "backup", "alerts"):
        assert value(found, "bdc_metrics_source_ok", source=source) == 1


def test_values_written_by_another_process_are_summed_in_the_scrape() -> None:
    job = f"test.two_processes.{secrets.token_hex(3)}"
    folder = metrics.directory()  # exported: a child process writes its own file beside ours
    metrics.record_job_run(job=job, outcome="succeeded", seconds=0.25)
    child = multiprocessing.get_context("spawn").Process(
        target=metrics.record_job_run, kwargs={"job": job, "outcome": "succeeded", "seconds": 2}
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert (folder / f"counter_{child.pid}.db").exists()

    found = parse(metrics.exposition().decode())
    assert value(found, "bdc_job_runs_total", job=job, outcome="succeeded") == 2
    assert value(found, "bdc_job_duration_seconds_count", job=job) == 2
    assert value(found, "bdc_job_duration_seconds_sum", job=job) == 2.25


@pytest.mark.slow
@SQLITE
def test_a_finished_job_run_is_counted_with_its_duration(
    migrated_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.jobs.sample_jobs import CLUSTER
    from tests.unit.jobs.support import job_runs, quick_settings, scheduler_running, wait_for

    quick_settings(monkeypatch)
    before = parse(metrics.exposition().decode())
    with scheduler_running(CLUSTER.subset(["sample.ticker"])):
        wait_for(lambda: [r for r in job_runs("sample.ticker") if r.outcome == "succeeded"])
    after = parse(metrics.exposition().decode())

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    runs = [run.outcome for run in job_runs("sample.ticker")]
    for outcome in set(runs):
        counted = delta("bdc_job_runs_total", job="sample.ticker", outcome=outcome)
        assert counted == runs.count(outcome), outcome
    assert delta("bdc_job_duration_seconds_count", job="sample.ticker") == len(runs)
