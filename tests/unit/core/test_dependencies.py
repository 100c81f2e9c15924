"""A dead PostgreSQL or Redis is named in one Chinese line at start and answered with 503 after.

The engines are real: the run's PostgreSQL cluster and Debian's redis-server; "dead" is a
loopback port nothing listens on.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from console.api.app import create_api
from console.core import dependencies
from console.core.settings import get_settings
from console.interfaces import key_service
from tests.support.postgres import PostgresCluster
from tests.support.redis import RedisServer
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from tests.support.world import World

ROOT = Path(__file__).resolve().parents[3]
XIHU = "330106"


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


def test_the_embedded_default_needs_no_engine_at_all() -> None:
    assert dependencies.configured() == []
    dependencies.require_all()


def test_live_engines_pass_the_start_check(
    postgres_cluster: PostgresCluster, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_DATABASE_URL", postgres_cluster.create_database("bdc_dep_live"))
    monkeypatch.setenv("BDC_REDIS_URL", redis_server.url)
    get_settings.cache_clear()
    assert [d.name for d in dependencies.configured()] == ["配置库", "Redis"]
    dependencies.require_all()


def test_a_dead_redis_refuses_the_start_naming_setting_and_address_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _dead_port()
    monkeypatch.setenv("BDC_REDIS_URL", f"redis://:s3cret-pass@127.0.0.1:{port}/0")
    get_settings.cache_clear()
    with pytest.raises(dependencies.DependencyUnavailable) as refused:
        dependencies.require_all()
    line = refused.value.message
    assert line.startswith(f"无法连接Redis（BDC_REDIS_URL=redis://:***@127.0.0.1:{port}/0）：")
    assert "s3cret-pass" not in line and "\n" not in line


def test_the_cli_refuses_to_start_on_a_dead_database_with_one_line(tmp_path: Path) -> None:
    port = _dead_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    env.update(
        BDC_DATA_DIR=str(tmp_path / "data"),
        BDC_DATABASE_URL=f"postgresql+psycopg://bdc:pw-hidden@127.0.0.1:{port}/bdc",
    )
    result = subprocess.run(
        [sys.executable, "-m", "console", "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"错误：无法连接配置库（BDC_DATABASE_URL=postgresql+psycopg://bdc:***@127.0.0.1:{port}/bdc）"
    )
    assert "pw-hidden" not in result.stderr


def test_health_names_a_dead_redis_with_503(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_REDIS_URL", f"redis://127.0.0.1:{_dead_port()}/0")
    get_settings.cache_clear()
    answer = TestClient(create_api()).get("/api/v1/health")
    assert answer.status_code == 503
    assert answer.json()["unavailable"] == ["Redis"]
    assert answer.json()["redis"] == {"ok": False, "error": "Redis暂时无法连接，请稍后重试"}


def test_health_is_ok_with_a_live_redis(
    seeded_db: str, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_REDIS_URL", redis_server.url)
    get_settings.cache_clear()
    answer = TestClient(create_api()).get("/api/v1/health")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["redis"] == {"ok": True} and answer.json()["unavailable"] == []


def test_health_names_a_dead_object_store_with_503(
    seeded_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDC_LAKE_WAREHOUSE", "s3://bdc-lake/province")
    monkeypatch.setenv("BDC_LAKE_S3_ENDPOINT", f"http://127.0.0.1:{_dead_port()}")
    get_settings.cache_clear()
    answer = TestClient(create_api()).get("/api/v1/health")
    assert answer.status_code == 503
    assert answer.json()["unavailable"] == ["对象存储"]
    assert answer.json()["object_store"] == {
        "ok": False,
        "error": "对象存储暂时无法连接，请稍后重试",
    }


def test_health_is_ok_with_a_live_object_store(
    seeded_db: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"bdc-health-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    monkeypatch.setenv("BDC_LAKE_WAREHOUSE", f"s3://{bucket}/province")
    monkeypatch.setenv("BDC_LAKE_S3_ENDPOINT", s3_server.endpoint)
    monkeypatch.setenv("BDC_LAKE_S3_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("BDC_LAKE_S3_SECRET_ACCESS_KEY", SECRET_KEY)
    get_settings.cache_clear()
    answer = TestClient(create_api()).get("/api/v1/health")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["object_store"] == {"ok": True}


def test_ingestion_answers_503_with_retry_after_when_the_database_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BDC_DATABASE_URL", f"postgresql+psycopg://bdc@127.0.0.1:{_dead_port()}/x")
    get_settings.cache_clear()
    answer = TestClient(create_api()).post(
        "/api/v1/logs/case_event",
        content=b'{"event_id": "e-1"}\n',
        headers={"Authorization": "Bearer bdc_abc_def", "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == str(dependencies.RETRY_AFTER_S)
    assert answer.json()["detail"] == "配置库暂时无法连接，请稍后重试"


def test_ingestion_answers_503_when_the_shared_rate_limiter_is_gone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.core.db import session_scope

    draft = key_service.KeyDraft("西湖登记系统", XIHU, frozenset({"logs.case_event"}))
    with session_scope() as session:
        key = key_service.issue_key(session=session, actor=world.actor("sys_admin"), draft=draft)
    monkeypatch.setenv("BDC_REDIS_URL", f"redis://127.0.0.1:{_dead_port()}/0")
    get_settings.cache_clear()
    answer = TestClient(create_api()).post(
        "/api/v1/logs/case_event",
        content=b'{"event_id": "e-1"}\n',
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == str(dependencies.RETRY_AFTER_S)
    assert answer.json()["detail"] == "Redis暂时无法连接，请稍后重试"


def test_only_a_lost_connection_is_a_503_other_database_errors_stay_500s() -> None:
    def wrapped(orig: BaseException) -> sa.exc.DBAPIError:
        return sa.exc.OperationalError("SELECT 1", {}, orig)

    refused = psycopg.OperationalError("connection to server at 127.0.0.1 failed: refused")
    assert dependencies.unavailable(wrapped(refused)) == "配置库"
    assert dependencies.unavailable(wrapped(psycopg.errors.AdminShutdown("shutdown"))) == "配置库"
    assert dependencies.unavailable(wrapped(psycopg.errors.DeadlockDetected("deadlock"))) is None
    assert dependencies.unavailable(wrapped(psycopg.errors.QueryCanceled("timeout"))) is None
    assert dependencies.unavailable(wrapped(sqlite3.OperationalError("disk is full"))) is None
    assert dependencies.unavailable(ValueError("not an engine")) is None


def test_an_address_is_shown_without_its_password_or_query() -> None:
    shown = dependencies.safe_address("redis://:pw1@10.0.0.5:6379/0?password=pw2")
    assert shown == "redis://:***@10.0.0.5:6379/0"


def test_migrate_needs_only_the_database_and_wal_restore_needs_neither(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    env.update(
        BDC_DATA_DIR=str(tmp_path / "data"),
        BDC_REDIS_URL=f"redis://127.0.0.1:{_dead_port()}/0",
    )
    migrated = subprocess.run(
        [sys.executable, "-m", "console", "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    served = subprocess.run(
        [sys.executable, "-m", "console", "scheduler"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert served.returncode == 2 and "无法连接Redis（BDC_REDIS_URL=" in served.stderr
