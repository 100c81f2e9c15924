"""Backup, verification and restore as recorded runs: what the CLI, the job and the page call."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from getpass import getpass
from pathlib import Path

import psycopg
import sqlalchemy as sa
from loguru import logger
from sqlmodel import select

from console.audit.models import Outcome
from console.audit.service import record
from console.backup import service
from console.backup.capture import STAGING, libpq
from console.backup.models import BackupRun
from console.backup.targets import Target
from console.core.actor import Actor
from console.core.clock import utcnow
from console.core.db import session_scope
from console.core.errors import UserError
from console.core.settings import get_settings

OBJ = "system.backup"
PASSPHRASE_ENV = "BDC_BACKUP_PASSPHRASE"
_LOCK_ID = 0x424443_4250  # "BDC" "BP": the advisory lock every backup run takes
OPERATOR = Actor(
    user_id=0, account="cli", display_name="命令行（运维）", tenant_code="", session_id=0
)


def passphrase_from(file: str | None, *, confirm: bool = False) -> str:
    """The backup passphrase: a file (mode 0600), ``BDC_BACKUP_PASSPHRASE``, or a prompt."""
    from console.backup.envelope import read_passphrase_file

    if file:
        return read_passphrase_file(Path(file))
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        raise UserError(f"未提供备份口令：请用 --passphrase-file 或环境变量 {PASSPHRASE_ENV}")
    first = getpass("备份口令（由安全管理员保管）：")
    if confirm and getpass("再输入一次：") != first:
        raise UserError("两次输入的口令不一致")
    return first


@contextmanager
def exclusive() -> Iterator[None]:
    """One backup or verification at a time: a file lock here, an advisory lock on PostgreSQL.

    Raises:
        UserError: another run holds it (the caller records nothing and tries later).
    """
    settings = get_settings()
    folder = settings.resolved_data_dir / STAGING
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (folder / "backup.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError("另一个备份或恢复校验正在进行，请稍后再试") from None
        try:
            with _cluster_lock(settings.db_url):
                yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _cluster_lock(url: str) -> Iterator[None]:
    """Across every console process sharing a PostgreSQL database (a cluster)."""
    if not url.startswith("postgresql"):
        yield
        return
    uri, environment = libpq(url)
    with psycopg.connect(uri, autocommit=True, **_password(environment)) as connection:
        taken = connection.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_ID,)).fetchone()
        if not taken or not taken[0]:
            raise UserError("另一台服务器上的备份或恢复校验正在进行，请稍后再试")
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))


class _ProgressWriter:
    """A run's progress into its row (at most every two seconds), for the page to show."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._last = 0.0

    def __call__(self, message: str) -> None:
        logger.info(message)
        if time.monotonic() - self._last < 2:
            return
        self._last = time.monotonic()
        with session_scope() as session:
            run = session.get(BackupRun, self.run_id)
            if run is not None and run.outcome == "running":
                run.message = message[:2000]


def _reason(error: Exception) -> str:
    """What a failed run's record says."""
    text = str(error) if isinstance(error, UserError) else f"{type(error).__name__}：{error}"
    return text[:2000]


def configured_passphrase() -> str:
    """The passphrase unattended runs use: the configured file (outside the data folder) or env.

    Raises:
        UserError: none configured, or a file inside the data folder (it would travel in
            the very sets it protects) or readable by others.
    """
    from console.backup.envelope import read_passphrase_file

    settings = get_settings()
    if settings.backup_passphrase_file:
        path = Path(settings.backup_passphrase_file).expanduser().resolve()
        if path.is_relative_to(settings.resolved_data_dir):
            raise UserError("备份口令文件不能放在数据目录内（它会随备份集一起被复制）")
        if not path.is_file():
            raise UserError(f"备份口令文件 {path} 不存在")
        return read_passphrase_file(path)
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    raise UserError(
        "未配置备份口令：请安全管理员提供口令文件并设置 BDC_BACKUP_PASSPHRASE_FILE"
        f"（或环境变量 {PASSPHRASE_ENV}）"
    )


def _start(kind: str, actor: Actor, set_id: str = "", targets: str = "") -> int:
    with session_scope() as session:
        run = BackupRun(kind=kind, set_id=set_id, targets=targets[:1000], actor=actor.account)
        session.add(run)
        session.flush()
        return int(run.id or 0)


def _finish(run_id: int, actor: Actor, action: str, **values: object) -> None:
    with session_scope() as session:
        run = session.get(BackupRun, run_id)
        if run is None:
            return
        for name, value in values.items():
            setattr(run, name, value)
        run.finished_at = utcnow()
        started = run.started_at
        run.seconds = round((run.finished_at - started).total_seconds(), 3) if started else 0.0
        outcome = Outcome.SUCCESS if run.outcome == "succeeded" else Outcome.FAILURE
        record(
            session,
            actor=actor,
            obj=OBJ,
            action=action,
            outcome=outcome,
            target=run.set_id,
            detail={"targets": run.targets, "message": run.message[:300]},
        )


@dataclass
class RunOutcome:
    """A run's end as the caller shows it."""

    passed: bool
    set_id: str
    message: str
    checks: list[dict]


def back_up(
    *,
    targets: list[Target],
    passphrase: str,
    actor: Actor = OPERATOR,
    verify: bool = True,
    then: Callable[[], None] | None = None,
) -> RunOutcome:
    """Write a set to every target, then (by default) restore it into scratch and check it.

    ``then`` (pruning) runs inside the same lock, so it never meets another run's objects.
    """
    with exclusive():
        outcome = _back_up(targets=targets, passphrase=passphrase, actor=actor, verify=verify)
        if then is not None:
            then()
        return outcome


def _back_up(*, targets: list[Target], passphrase: str, actor: Actor, verify: bool) -> RunOutcome:
    labels = ", ".join(t.label for t in targets)
    set_id = service.new_set_id()
    run_id = _start("backup", actor, set_id=set_id, targets=labels)
    try:
        result = service.backup(
            targets=targets, passphrase=passphrase, set_id=set_id, progress=_ProgressWriter(run_id)
        )
    except Exception as error:  # the run is recorded as failed whatever stopped it
        _finish(run_id, actor, "backup", outcome="failed", message=_reason(error))
        raise
    _finish(
        run_id,
        actor,
        "backup",
        outcome="succeeded",
        set_id=result.set_id,
        files=result.files,
        bytes=result.bytes,
        new_bytes=result.new_bytes,
        message=f"新增 {result.new_objects} 个对象",
    )
    if not verify:
        return RunOutcome(True, result.set_id, f"备份集 {result.set_id} 已写入 {labels}", [])
    return verify_set(target=targets[0], set_id=result.set_id, passphrase=passphrase, actor=actor)


def verify_set(
    *, target: Target, set_id: str, passphrase: str, actor: Actor = OPERATOR
) -> RunOutcome:
    """Restore a set into a scratch folder (and a scratch database) and run every check."""
    settings = get_settings()
    run_id = _start("verify", actor, set_id=set_id, targets=target.label)
    scratch = settings.resolved_data_dir / STAGING / f"verify-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700, parents=True)
    database = _scratch_database(settings.db_url, scratch)
    try:
        body = service.restore(
            target=target,
            set_id=set_id,
            passphrase=passphrase,
            plan=service.RestorePlan(scratch / "data", database),
            progress=_ProgressWriter(run_id),
        )
        manifest = scratch / "manifest.json"
        manifest.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        report = service.run_checks(
            manifest=manifest, data_dir=scratch / "data", database_url=database
        )
    except Exception as error:  # the run is recorded as failed whatever stopped it
        _finish(run_id, actor, "verify", outcome="failed", message=_reason(error))
        raise
    finally:
        _drop_scratch_database(settings.db_url, database)
        shutil.rmtree(scratch, ignore_errors=True)
    passed = bool(report.get("passed"))
    failed = [c["name"] for c in report.get("checks", []) if not c["passed"]]
    message = "恢复校验通过" if passed else "恢复校验未通过：" + "、".join(failed)
    _finish(
        run_id,
        actor,
        "verify",
        outcome="succeeded" if passed else "failed",
        set_id=body["set_id"],
        files=body["counts"]["files"],
        bytes=body["counts"]["bytes"],
        message=message,
        checks=json.dumps(report.get("checks", []), ensure_ascii=False)[:8000],
    )
    return RunOutcome(passed, body["set_id"], message, report.get("checks", []))


def _scratch_database(url: str, scratch: Path) -> str:
    """An empty database beside the live one for a verification restore."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return f"sqlite:///{scratch / 'verify.db'}"
    name = f"{parsed.database}_restorecheck_{os.getpid()}"[:63]
    uri, environment = libpq(url)
    with psycopg.connect(uri, autocommit=True, **_password(environment)) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


def _drop_scratch_database(url: str, scratch_url: str) -> None:
    if not scratch_url.startswith("postgresql"):
        return
    from console.core.db import engine_for

    engine_for(scratch_url).dispose()
    uri, environment = libpq(url)
    name = sa.engine.make_url(scratch_url).database
    try:
        with psycopg.connect(uri, autocommit=True, **_password(environment)) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error:
        logger.warning(f"临时校验数据库 {name} 未能删除，请手工删除")


def _password(environment: dict[str, str]) -> dict[str, str]:
    return {"password": environment["PGPASSWORD"]} if "PGPASSWORD" in environment else {}


def restore_set(
    *, target: Target, set_id: str, passphrase: str, force: bool, actor: Actor = OPERATOR
) -> RunOutcome:
    """Restore onto this installation's data directory and database, check it, record it."""
    settings = get_settings()
    plan = service.RestorePlan(settings.resolved_data_dir, settings.db_url, force=force)
    body = service.restore(
        target=target, set_id=set_id, passphrase=passphrase, plan=plan, progress=logger.info
    )
    manifest = settings.resolved_data_dir / STAGING / "restored-manifest.json"
    manifest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    report = service.run_checks(
        manifest=manifest, data_dir=settings.resolved_data_dir, database_url=settings.db_url
    )
    manifest.unlink(missing_ok=True)
    passed = bool(report.get("passed"))
    _record_restore(body, target, actor, passed, report)
    failed = [c["name"] for c in report.get("checks", []) if not c["passed"]]
    message = "恢复完成，校验通过" if passed else "恢复完成，但校验未通过：" + "、".join(failed)
    return RunOutcome(passed, body["set_id"], message, report.get("checks", []))


def restore_live_copy(
    *, target: Target, passphrase: str, force: bool, actor: Actor = OPERATOR
) -> RunOutcome:
    """Restore from the real-time copy alone, settle the lake against its chain, check it."""
    settings = get_settings()
    plan = service.RestorePlan(settings.resolved_data_dir, settings.db_url, force=force)
    body = service.restore_from_live(
        target=target, passphrase=passphrase, plan=plan, progress=logger.info
    )
    settled = body["settled"]
    manifest = settings.resolved_data_dir / STAGING / "restored-manifest.json"
    manifest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    report = service.run_checks(
        manifest=manifest, data_dir=settings.resolved_data_dir, database_url=settings.db_url
    )
    manifest.unlink(missing_ok=True)
    report["checks"].insert(0, {"name": "实时副本时点", "passed": True, "detail": settled})
    passed = bool(report.get("passed"))
    _record_restore(body, target, actor, passed, report)
    failed = [c["name"] for c in report.get("checks", []) if not c["passed"]]
    message = "恢复完成，校验通过" if passed else "恢复完成，但校验未通过：" + "、".join(failed)
    return RunOutcome(passed, body["set_id"], message, report.get("checks", []))


def _record_restore(body: dict, target: Target, actor: Actor, passed: bool, report: dict) -> None:
    """The restored database learns it was restored, and from which set."""
    with session_scope() as session:
        for run in session.exec(select(BackupRun).where(BackupRun.outcome == "running")):
            own = run.kind == "backup" and run.set_id == body["set_id"]
            run.outcome = "succeeded" if own else "failed"
            run.message = "（恢复后补记）即本备份集" if own else "（恢复后补记）备份时尚未完成"
            run.finished_at = run.finished_at or utcnow()
        session.add(
            BackupRun(
                kind="restore",
                set_id=body["set_id"],
                targets=target.label,
                files=(body.get("counts") or {}).get("files", 0),
                bytes=(body.get("counts") or {}).get("bytes", 0),
                outcome="succeeded" if passed else "failed",
                finished_at=utcnow(),
                message=(
                    f"由实时副本（时点 {body['point']}）恢复"
                    if body.get("point")
                    else f"由 {body.get('host', '')} 于 {body['created_at']} 备份的集恢复"
                ),
                checks=json.dumps(report.get("checks", []), ensure_ascii=False)[:8000],
                actor=actor.account,
            )
        )
        record(session, actor=actor, obj=OBJ, action="restore", target=body["set_id"])
