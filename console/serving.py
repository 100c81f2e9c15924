"""``serve`` and ``build-frontend``: one process on one port, or backends behind nginx.

The embedded default (``serve``) runs Reflex in production mode with the pages and the API on
one port. A cluster builds the frontend once (``build-frontend --api-url``), lets nginx serve
it, and runs ``serve --backend-only`` on each node, all sharing PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from console.api.security_headers import nginx_snippet
from console.core import metrics
from console.core.db import migrate
from console.core.errors import UserError
from console.core.settings import get_settings

# Written into every build: build-frontend replaces only a folder that holds it.
BUILD_MARKER = ".bdc-frontend"


def _reflex(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "reflex", *arguments]


def _serve(args: argparse.Namespace) -> int:
    """Serve the console with Reflex: prod (one port) by default, hot reload with --dev."""
    settings = get_settings()
    migrate()
    # The backend's processes inherit the metrics folder; files of gone processes are cleared.
    metrics.setup(settings.resolved_data_dir, fresh=True)
    if args.backend_only:
        command = _reflex(
            "run", "--env", "prod", "--backend-only",
            "--backend-port", str(settings.port), "--backend-host", settings.host,
        )  # fmt: skip
        print(f"控制台后端（页面由 nginx 提供）：{settings.host}:{settings.port}", flush=True)
        os.execv(sys.executable, command)
    mode = "dev" if args.dev else "prod"
    backend_port = settings.dev_backend_port if args.dev else settings.port
    command = _reflex(
        "run", "--env", mode,
        "--frontend-port", str(settings.port),
        "--backend-port", str(backend_port), "--backend-host", settings.host,
    )  # fmt: skip
    print(f"控制台地址：http://{_browser_host(settings.host)}:{settings.port}", flush=True)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover  (execv does not return)


def _browser_host(host: str) -> str:
    return "localhost" if host in {"127.0.0.1", "0.0.0.0", "::"} else host


def web_dir() -> Path:
    """Reflex's build folder (``REFLEX_WEB_WORKDIR``, else ``.web``)."""
    return Path(os.environ.get("REFLEX_WEB_WORKDIR") or ".web").resolve()


def headers_conf(out: Path) -> Path:
    """The nginx snippet of security headers for the build in ``out``."""
    return out.with_name(out.name + ".headers.conf")


def _build_frontend(args: argparse.Namespace) -> int:
    """Build the pages once, pointing their websocket and uploads at the public address."""
    out = Path(args.out).resolve()
    if out.exists() and not (out / BUILD_MARKER).is_file():
        raise UserError(
            f"输出目录 {out} 已存在且不是此前构建的前端（缺少 {BUILD_MARKER}），未做改动"
        )
    env = {**os.environ, "REFLEX_API_URL": args.api_url.rstrip("/")}
    built = subprocess.run(
        _reflex("export", "--frontend-only", "--no-zip", "--env", "prod"),
        env=env,
        check=False,
    )
    client = web_dir() / "build" / "client"
    if built.returncode != 0 or not client.is_dir():
        raise UserError(f"前端构建失败（reflex export 退出码 {built.returncode}）")
    staging = out.with_name(out.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(client, staging)
    (staging / BUILD_MARKER).write_text(args.api_url + "\n", encoding="utf-8")
    staging.chmod(0o755)  # nginx's workers read it (the console's own files stay private)
    for path in staging.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    # The header snippet first, allowing the old build's inline scripts and the new one's:
    # pages load whether nginx was reloaded yet or not.
    headers = headers_conf(out)
    builds = (out, staging) if out.exists() else (staging,)
    policy = nginx_snippet(*builds, https=args.api_url.startswith("https://"))
    headers.write_text(policy, encoding="utf-8")
    headers.chmod(0o644)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)  # nginx never serves half a build
    print(f"前端已构建：{out}（页面连接 {args.api_url}；安全响应头：{headers}）", flush=True)
    print("请执行 nginx -t && nginx -s reload 使新的安全响应头生效", flush=True)
    return 0


def add_commands(commands: Any) -> None:
    """Register ``serve`` and ``build-frontend`` on the CLI's sub-parsers."""
    serve = commands.add_parser(
        "serve",
        help="启动控制台（生产模式；--dev 为热重载开发模式；--backend-only 为集群中的后端节点）",
    )
    serve.add_argument("--dev", action="store_true")
    serve.add_argument(
        "--backend-only",
        action="store_true",
        help="只启动后端（页面由 nginx 提供 build-frontend 的结果），集群部署用",
    )
    serve.set_defaults(handler=_serve)
    build = commands.add_parser(
        "build-frontend", help="构建前端静态文件一次，交由 nginx 提供（集群部署用）"
    )
    build.add_argument(
        "--api-url",
        required=True,
        help="浏览器访问控制台的地址（nginx），如 https://bdc.example.gov.cn",
    )
    build.add_argument("--out", required=True, help="输出目录（nginx 的 root）")
    build.set_defaults(handler=_build_frontend)
