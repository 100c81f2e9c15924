"""The operator's commands: back up a running console, lose the disk, restore, serve again."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

from tests.api.test_log_durability import BATCH, _batch, _console, _free_port, _start_api
from tests.support.push import post_batch
from tests.support.server import ROOT, server_environment

PASSPHRASE = "省厅安全管理员保管的口令-01"


def _passphrase_file(folder: Path) -> Path:
    path = folder / "backup.pass"
    path.write_text(PASSPHRASE + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _push(port: int, key: str, number: int) -> dict | None:
    return post_batch(port, key, _batch(number))


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


def _stored_event_ids(data_dir: Path) -> set[str]:
    with closing(sqlite3.connect(data_dir / "lake" / "ingest.db")) as db:
        return {row[0] for row in db.execute("SELECT event_id FROM pending")}


def test_a_backup_under_full_ingestion_restores_onto_a_new_server_that_serves_again(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = server_environment(tmp_path / "data", port)
    _console(env, "init")
    key = _console(
        env, "apikey", "create", "--tenant", "330000", "--streams", "logs.case_event"
    ).strip()
    passphrase, target = str(_passphrase_file(tmp_path)), str(tmp_path / "second-disk")
    process = _start_api(env, port)
    acknowledged: list[int] = []
    stop = threading.Event()
    numbers = iter(range(10**6))
    lock = threading.Lock()

    def sender() -> None:
        while not stop.is_set():
            with lock:
                number = next(numbers)
            if _push(port, key, number) is not None:
                acknowledged.append(number)

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        while len(acknowledged) < 5:
            time.sleep(0.05)
        before = list(acknowledged)  # answered 200 before the backup began
        made = _run(env, "backup", "--to", target, "--passphrase-file", passphrase)
        during = len(acknowledged) - len(before)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        _stop(process)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "恢复校验通过" in made.stdout
    assert during > 0, "ingestion went on while the backup ran"

    shutil.rmtree(tmp_path / "data")  # the disk is lost
    listed = _run(env, "backup-list", "--from", target).stdout.split()
    assert len(listed) == 1
    done = _run(env, "restore", f"{target}/sets/{listed[0]}", "--passphrase-file", passphrase)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[通过] 日志校验链" in done.stdout and "[未通过]" not in done.stdout
    expected = {f"b{number}-{n}" for number in before for n in range(BATCH)}
    assert expected <= _stored_event_ids(tmp_path / "data")
    again = _run(env, "restore", "latest", "--from", target, "--passphrase-file", passphrase)
    assert again.returncode == 2 and "--force" in again.stderr

    process = _start_api(env, port)
    try:  # the restored key works, and what was stored before is known (not stored twice)
        answer = _push(port, key, before[0])
        assert answer is not None and answer["accepted"] == 0 and answer["duplicates"] == BATCH
        assert _push(port, key, 10**7)["accepted"] == BATCH
    finally:
        _stop(process)


def test_a_passphrase_file_others_can_read_is_refused(tmp_path: Path) -> None:
    env = server_environment(tmp_path / "data", _free_port())
    loose = tmp_path / "loose.pass"
    loose.write_text(PASSPHRASE)
    loose.chmod(0o644)
    result = _run(env, "backup", "--to", str(tmp_path / "t"), "--passphrase-file", str(loose))
    assert result.returncode == 2 and "chmod 600" in result.stderr
