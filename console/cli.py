"""``python -m console …``: init, migrate, create-admin, revision."""

from __future__ import annotations

import argparse
import os
import sys

from console.core.crypto import ensure_key_files
from console.core.db import alembic_config, backend_name, migrate, session_scope
from console.core.errors import UserError
from console.core.logging import configure_logging
from console.core.settings import get_settings


def _init(_args: argparse.Namespace) -> int:
    """Prepare a machine: data folder, schema, initial administrator."""
    settings = get_settings()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    for path in ensure_key_files(settings):
        print(f"已生成密钥文件 {path}（权限 0600，请妥善备份，丢失将无法解密个人信息）")
    revision = migrate()
    print(f"配置库（{backend_name()}）已升级到版本 {revision}")
    return _create_admin(argparse.Namespace(account="admin"))


def _migrate(_args: argparse.Namespace) -> int:
    print(f"配置库已升级到版本 {migrate()}")
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    from console.iam.service import create_admin

    migrate()
    with session_scope() as session:
        password = create_admin(session=session, account=args.account)
    if password is None:
        print(f"管理员账号 {args.account} 已存在，未重新创建。")
        return 0
    line = "=" * 60
    print(
        f"{line}\n初始管理员已创建（密码仅显示这一次，首次登录须修改）\n"
        f"  账号：{args.account}\n  密码：{password}\n{line}"
    )
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    """Give an account a new one-time password (lost admin password, locked account)."""
    from console.iam.service import reset_password

    migrate()
    with session_scope() as session:
        password = reset_password(session=session, account=args.account)
    print(
        f"账号 {args.account} 的密码已重置，已解除锁定并结束其全部会话。\n"
        f"  新的一次性密码：{password}（首次登录须修改）"
    )
    return 0


def _revision(args: argparse.Namespace) -> int:
    """Autogenerate a migration from model changes (developers only)."""
    from alembic import command

    command.revision(alembic_config(get_settings().db_url), message=args.message, autogenerate=True)
    return 0


def _serve(args: argparse.Namespace) -> int:
    """Serve the console with Reflex: prod (one port) by default, hot reload with --dev."""
    settings = get_settings()
    migrate()
    mode = "dev" if args.dev else "prod"
    backend_port = settings.dev_backend_port if args.dev else settings.port
    command = [
        sys.executable,
        "-m",
        "reflex",
        "run",
        "--env",
        mode,
        "--frontend-port",
        str(settings.port),
        "--backend-port",
        str(backend_port),
        "--backend-host",
        settings.host,
    ]
    print(f"控制台地址：http://{_browser_host(settings.host)}:{settings.port}", flush=True)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover  (execv does not return)


def _browser_host(host: str) -> str:
    return "localhost" if host in {"127.0.0.1", "0.0.0.0", "::"} else host


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface of the console."""
    parser = argparse.ArgumentParser(prog="python -m console", description="不动产登记运维监管平台")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", help="创建数据目录、升级配置库、创建初始管理员").set_defaults(
        handler=_init
    )
    commands.add_parser("migrate", help="把配置库升级到最新版本").set_defaults(handler=_migrate)
    admin = commands.add_parser("create-admin", help="创建初始管理员（已存在则不动）")
    admin.add_argument("--account", default="admin")
    admin.set_defaults(handler=_create_admin)
    reset = commands.add_parser("reset-password", help="重置账号密码（忘记初始密码、账号被锁定时）")
    reset.add_argument("account")
    reset.set_defaults(handler=_reset_password)
    serve = commands.add_parser("serve", help="启动控制台（生产模式；--dev 为热重载开发模式）")
    serve.add_argument("--dev", action="store_true")
    serve.set_defaults(handler=_serve)
    revision = commands.add_parser("revision", help="按模型变化生成迁移脚本（开发用）")
    revision.add_argument("message")
    revision.set_defaults(handler=_revision)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; Chinese message and exit status 2 on a user-facing error."""
    args = build_parser().parse_args(argv)
    try:
        configure_logging(get_settings())
        return args.handler(args)
    except UserError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
