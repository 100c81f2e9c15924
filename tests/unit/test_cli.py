"""The command line, run as a real subprocess the way `make run` runs it."""

import os
import re
import subprocess
import sys
from pathlib import Path

from console.core.db import session_scope
from console.iam import service


def _console(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    environment.update(BDC_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_creates_the_admin_once_and_prints_a_working_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = _console("init", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    password = re.search(r"密码：(\S+)", first.stdout).group(1)
    assert (data_dir / "console.db").exists()

    second = _console("init", data_dir=data_dir)
    assert second.returncode == 0
    assert "已存在，未重新创建" in second.stdout
    assert "密码：" not in second.stdout

    with session_scope(f"sqlite:///{data_dir / 'console.db'}") as session:
        token, actor = service.authenticate(session=session, account="admin", password=password)
    assert token and actor.must_change_password


def test_bad_setting_stops_the_command_with_a_chinese_reason(tmp_path: Path) -> None:
    result = _console("init", data_dir=tmp_path / "data", BDC_LOGIN_LOCK_MINUTES="soon")
    assert result.returncode == 2
    assert "BDC_LOGIN_LOCK_MINUTES" in result.stderr and "应为整数" in result.stderr


def test_reset_password_issues_a_new_one_time_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old = re.search(r"密码：(\S+)", _console("init", data_dir=data_dir).stdout).group(1)
    reset = _console("reset-password", "admin", data_dir=data_dir)
    assert reset.returncode == 0, reset.stderr
    new = re.search(r"一次性密码：(\S+?)（", reset.stdout).group(1)
    assert new != old
    url = f"sqlite:///{data_dir / 'console.db'}"
    with session_scope(url) as session:
        assert service.authenticate(session=session, account="admin", password=new)[0]
    missing = _console("reset-password", "ghost", data_dir=data_dir)
    assert missing.returncode == 2 and "账号 ghost 不存在" in missing.stderr
