"""The command line, run as a real subprocess the way `make run` runs it."""

import os
import re
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from console.core.db import session_scope
from console.iam import service
from console.interfaces.models import Channel, InterfaceDef


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


ADMIN_LINE = re.compile(r"账号：(\S+)\s+密码：(\S+)")


def test_init_creates_the_three_admins_once_with_working_passwords(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = _console("init", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    admins = dict(ADMIN_LINE.findall(first.stdout))
    assert set(admins) == {"sysadmin", "secadmin", "auditadmin"}
    assert len(set(admins.values())) == 3
    assert (data_dir / "console.db").exists()

    second = _console("init", data_dir=data_dir)
    assert second.returncode == 0
    assert "已存在，未重新创建" in second.stdout
    assert "密码：" not in second.stdout

    with session_scope(f"sqlite:///{data_dir / 'console.db'}") as session:
        for account, password in admins.items():
            token, actor = service.authenticate(session=session, account=account, password=password)
            assert token and actor.must_change_password


def test_user_create_and_role_list_serve_scripts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _console("init", data_dir=data_dir)
    created = _console(
        "user",
        "create",
        "--account",
        "clerk01",
        "--name",
        "王小明",
        "--role",
        "window_clerk",
        "--tenant",
        "330000",
        data_dir=data_dir,
    )
    assert created.returncode == 0, created.stderr
    assert "一次性密码" in created.stdout
    listed = _console("role", "list", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    clerk_line = next(
        line for line in listed.stdout.splitlines() if line.startswith("window_clerk")
    )
    assert clerk_line.split()[-1] == "1"
    refused = _console(
        "user",
        "create",
        "--account",
        "twohats",
        "--name",
        "某某",
        "--role",
        "sys_admin",
        "--role",
        "audit_admin",
        "--tenant",
        "330000",
        data_dir=data_dir,
    )
    assert refused.returncode == 2 and "三员分立" in refused.stderr


def test_bad_setting_stops_the_command_with_a_chinese_reason(tmp_path: Path) -> None:
    result = _console("init", data_dir=tmp_path / "data", BDC_LOGIN_LOCK_MINUTES="soon")
    assert result.returncode == 2
    assert "BDC_LOGIN_LOCK_MINUTES" in result.stderr and "应为整数" in result.stderr


def test_reset_password_issues_a_new_one_time_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old = dict(ADMIN_LINE.findall(_console("init", data_dir=data_dir).stdout))["sysadmin"]
    reset = _console("reset-password", "sysadmin", data_dir=data_dir)
    assert reset.returncode == 0, reset.stderr
    new = re.search(r"一次性密码：(\S+?)（", reset.stdout).group(1)
    assert new != old
    url = f"sqlite:///{data_dir / 'console.db'}"
    with session_scope(url) as session:
        assert service.authenticate(session=session, account="sysadmin", password=new)[0]
    missing = _console("reset-password", "ghost", data_dir=data_dir)
    assert missing.returncode == 2 and "账号 ghost 不存在" in missing.stderr


def test_seed_demo_creates_one_account_per_business_role_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _console("init", data_dir=data_dir)
    first = _console("seed-demo", "--days", "0", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    accounts = dict(ADMIN_LINE.findall(first.stdout))
    assert len(accounts) == 8 and "demo_county_admin" in accounts
    assert "模拟" not in first.stdout
    second = _console("seed-demo", "--days", "2", "--scale", "0.001", data_dir=data_dir)
    assert second.returncode == 0, second.stderr
    assert "未重复创建" in second.stdout
    assert re.search(r"租户 90 个；新写入 [1-9][\d,]* 条", second.stdout), second.stdout
    refused = _console("seed-demo", "--days", "-1", data_dir=data_dir)
    assert refused.returncode == 2 and "--days 不能为负" in refused.stderr
    with session_scope(f"sqlite:///{data_dir / 'console.db'}") as session:
        _, actor = service.authenticate(
            session=session, account="demo_county_admin", password=accounts["demo_county_admin"]
        )
    assert actor.tenant_code == "330106"
    with session_scope(f"sqlite:///{data_dir / 'console.db'}") as session:
        channels = session.exec(select(Channel)).all()
        systems = session.exec(
            select(InterfaceDef).where(InterfaceDef.direction == "inbound")
        ).all()
        national = session.exec(select(InterfaceDef).where(InterfaceDef.builtin)).all()
    assert sorted(c.name for c in channels) == [
        "余杭区中国银行支行",
        "滨江区中国银行支行",
        "西湖区中国银行支行",
    ]  # once each, though seed-demo ran twice
    assert len(systems) == 3 and len(national) == 24


def test_init_names_the_administrators_writes_privately_and_refuses_an_exposed_key(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    environment["BDC_DATA_DIR"] = str(data_dir)
    names = ("--sysadmin", "zj_sys", "--secadmin", "zj_sec", "--auditadmin", "zj_audit")
    init = subprocess.run(
        [sys.executable, "-m", "console", "init", *names],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),  # a shell that would make files world-readable
    )
    assert init.returncode == 0, init.stderr
    assert set(dict(ADMIN_LINE.findall(init.stdout))) == {"zj_sys", "zj_sec", "zj_audit"}
    written = [data_dir, *data_dir.rglob("*")]
    assert len(written) > 4  # the database, the keys, the log lake, the run log
    assert [str(p) for p in written if p.stat().st_mode & 0o077] == []
    again = _console("init", data_dir=data_dir)  # the default names: nobody new
    assert again.returncode == 0 and "已存在，未重新创建" in again.stdout
    assert "密码：" not in again.stdout
    key = data_dir / "keys" / "sm4.key"
    key.chmod(0o644)
    refused = _console("migrate", data_dir=data_dir)
    assert refused.returncode == 2
    assert f"chmod 600 {key}" in refused.stderr and "0644" in refused.stderr
