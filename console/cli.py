"""``python -m console …``: init, migrate, create-admin, revision."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from console import serving
from console.core import dependencies
from console.core.crypto import ensure_key_files
from console.core.db import alembic_config, backend_name, migrate, session_scope
from console.core.errors import UserError, ValidationFailed
from console.core.settings import get_settings
from console.wiring import wire


def _init(args: argparse.Namespace) -> int:
    """Prepare a machine: data folder, schema, initial administrator."""
    settings = get_settings()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    for path in ensure_key_files(settings):
        print(f"已生成密钥文件 {path}（权限 0600，请妥善备份，丢失将无法解密个人信息）")
    revision = migrate()
    print(f"配置库（{backend_name()}）已升级到版本 {revision}")
    _load_dictionaries(args)
    return _create_admins(args)


def _load_dictionaries(_args: argparse.Namespace) -> int:
    """Load the seed dictionaries; report administrators' edits that were kept."""
    from console.dictionaries.seed import load_seed
    from console.interfaces.registry_service import load_national_interfaces
    from console.workflows.limits import load_time_limits
    from console.workflows.seed import load_workflow_seed

    migrate()
    with session_scope() as session:
        report = load_seed(session)
    print(f"数据字典：新增 {report.added}，更新 {report.updated}，未变 {report.unchanged}")
    for kept in report.kept_edits:
        print(f"  管理员已修改，未覆盖：{kept}")
    with session_scope() as session:
        added = load_national_interfaces(session)
    print(f"国家共享接口：新增 {added}（已登记的不覆盖）")
    with session_scope() as session:
        limits = load_time_limits(session)
    print(f"业务承诺时限：新增 {limits}（已设置的不覆盖）")
    with session_scope() as session:
        workflows = load_workflow_seed(session)
    print(f"流程与业务定义（省级模板）：新增 {workflows}（已有的不覆盖）")
    return 0


def _seal_logs(_args: argparse.Namespace) -> int:
    """Seal the closed days of every log stream into Parquet on the SM3 chain."""
    from console.logs.store import store_for

    lake = get_settings().lake_dir
    sealed = store_for(lake).seal(lake=lake)
    for entry in sealed:
        print(f"已封存 {entry.file}：{entry.rows} 条，SM3 {entry.file_sm3[:16]}…")
    print(f"共封存 {len(sealed)} 个文件")
    return 0


def _rebuild_rollups(_args: argparse.Namespace) -> int:
    """Recreate the dashboards' daily rollups from the sealed files."""
    from console.logs import case_index
    from console.logs.rollup import rebuild_all
    from console.logs.seal import lake_lock

    lake = get_settings().lake_dir
    with lake_lock(lake):
        days = rebuild_all(lake)
        pairs = case_index.rebuild(lake)
    print(f"已重建 {days} 个日志日的汇总，办件索引 {pairs} 条")
    return 0


def _lake_to_tables(_args: argparse.Namespace) -> int:
    """Bring the sealed lake into its Iceberg tables on the object store, once."""
    from console.logs.table_migration import bring_over

    rewritten = bring_over(lake=get_settings().lake_dir)
    for found in rewritten:
        print(
            f"[{found.stream}] {found.day} {found.old} → {found.new}"
            f"（{found.rows} 条，已补写 day 列）"
        )
    print(f"已登记到日志表；改写 {len(rewritten)} 个早期封存文件（校验链与操作日志均有记录）")
    return 0


def _verify_logs(_args: argparse.Namespace) -> int:
    """Check every sealed log file against the SM3 chain; exit 1 on any break."""
    from console.logs.chain import restore_points, verify

    breaks = verify(get_settings().lake_dir)
    for point in restore_points(get_settings().lake_dir):
        print(
            f"[{point.stream}] {point.restored_at[:19]} 从实时副本恢复（副本时点 {point.point}），"
            f"未能恢复 {point.lost_parts} 个分区、{point.lost_rows} 条"
        )
    for found in breaks:
        print(f"[{found.stream}] {found.day} {found.file}：{found.reason}")
    if breaks:
        print(f"发现 {len(breaks)} 处异常：日志可能被篡改，请立即报告安全管理员")
        return 1
    print("日志完整性校验通过：全部封存文件与校验链一致")
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    print(f"配置库已升级到版本 {migrate()}")
    return 0


def _create_admins(args: argparse.Namespace) -> int:
    """Seed built-in roles and create the three administrators that are missing."""
    from console.iam.role_service import seed_builtin_roles
    from console.iam.service import create_initial_admins

    migrate()
    with session_scope() as session:
        seeded = seed_builtin_roles(session)
        names = {
            role: getattr(args, role, "") for role in ("sys_admin", "sec_admin", "audit_admin")
        }
        created = create_initial_admins(
            session=session, names={r: n for r, n in names.items() if n}
        )
    if seeded:
        print(f"已载入 {seeded} 个内置角色及其权限（policies/）")
    if not created:
        print("三员账号已存在，未重新创建。")
        return 0
    line = "=" * 64
    print(f"{line}\n三员账号已创建（密码仅显示这一次，首次登录须修改）")
    for account, label, password in created:
        print(f"  {label}  账号：{account}  密码：{password}")
    print(line)
    return 0


def _seed_demo(args: argparse.Namespace) -> int:
    """Demo counties, organisations, one account per built-in role, and simulated logs."""
    from console.simulate.demo import seed_demo

    if args.days < 0 or args.scale <= 0:
        print("参数错误：--days 不能为负，--scale 须大于 0", file=sys.stderr)
        return 2
    migrate()
    with session_scope() as session:
        created = seed_demo(session)
    if not created:
        print("演示账号已存在，未重复创建。")
    else:
        print("演示账号已创建（每个内置角色一个；密码仅显示这一次，首次登录须修改）：")
        for account, role, password in created:
            print(f"  {role:<8} 账号：{account}  密码：{password}")
    return _simulate(days=args.days, scale=args.scale, seed=args.seed) if args.days else 0


def _simulate(*, days: int, scale: float, seed: int) -> int:
    from console.simulate.service import simulate

    print(f"模拟全省最近 {days} 天的办件与日志（规模 {scale}，种子 {seed}）…")
    with session_scope() as session:
        report = simulate(
            session=session, days=days, scale=scale, seed=seed, progress=lambda m: print(m)
        )
    accepted = "，".join(f"{stream} {count:,}" for stream, count in report.accepted.items())
    print(f"租户 {report.tenants} 个；新写入 {report.total:,} 条（{accepted}）")
    print(f"已存在（重复）{report.duplicates:,} 条；封存 {report.sealed_parts} 个分区文件")
    for problem in report.rejected[:20]:
        print(f"  被拒：{problem}", file=sys.stderr)
    return 1 if report.rejected else 0


def _user_create(args: argparse.Namespace) -> int:
    """Create an account from a script (tests, provisioning) and print its one-time password."""
    from console.iam.passwords import generate_password, hash_password
    from console.iam.user_service import UserDraft, insert_user

    migrate()
    password = generate_password()
    draft = UserDraft(
        account=args.account,
        real_name=args.name,
        tenant_code=args.tenant,
        roles=tuple(args.role or ()),
        phone=args.phone or "",
        id_number=args.id_number or "",
    )
    with session_scope() as session:
        user = insert_user(session, draft, password_hash=hash_password(password))
        if args.token_only:
            # Nobody learns this password: the account works only through its tokens.
            user.token_only, user.must_change_password = True, False
            session.add(user)
    if args.token_only:
        print(f"账号 {args.account} 已创建（仅用于访问令牌，不能交互登录）")
    else:
        print(f"账号 {args.account} 已创建，一次性密码：{password}（首次登录须修改）")
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    """Create an API key for an inbound system and print it (shown only this once)."""
    from sqlmodel import select

    from console.iam.models import Organization
    from console.interfaces.key_service import create_key
    from console.interfaces.models import Channel

    migrate()
    with session_scope() as session:
        org_id = channel_id = None
        if args.org:
            org = session.exec(
                select(Organization).where(
                    Organization.tenant_code == args.tenant, Organization.name == args.org
                )
            ).first()
            if org is None:
                raise ValidationFailed(f"租户 {args.tenant} 下没有机构 {args.org}", field="机构")
            org_id = org.id
            # An institution with a channel calls through it: its key obeys the channel's state.
            channel = session.exec(select(Channel).where(Channel.org_id == org.id)).first()
            channel_id = channel.id if channel else None
        key = create_key(
            session,
            name=args.name or args.org or "接入系统",
            tenant_code=args.tenant,
            org_id=org_id,
            channel_id=channel_id,
            scopes={s.strip() for s in args.streams.split(",") if s.strip()},
            created_by="cli",
            rate_limit_per_minute=args.rate_limit,
        )
    print(key)
    return 0


def _token_create(args: argparse.Namespace) -> int:
    """Print a personal access token for a user's own tools (shown only this once)."""
    from console.iam.token_service import create_token_for_account

    migrate()
    with session_scope() as session:
        token = create_token_for_account(
            session, account=args.user, name=args.name or "命令行创建", days=args.days
        )
    print(token)
    return 0


def _apikey_rotate(args: argparse.Namespace) -> int:
    """Print a new key; the old one keeps working for the grace period."""
    from console.interfaces.key_service import rotate_key_by_operator

    migrate()
    with session_scope() as session:
        key = rotate_key_by_operator(session, key_id=args.key_id, grace_hours=args.grace_hours)
    print(key)
    return 0


def _apikey_revoke(args: argparse.Namespace) -> int:
    """Revoke a key at once."""
    from console.interfaces.key_service import revoke_key

    migrate()
    with session_scope() as session:
        revoke_key(session, key_id=args.key_id)
    print(f"密钥 {args.key_id} 已吊销")
    return 0


def _role_list(_args: argparse.Namespace) -> int:
    """Print the roles with their codes, categories and holders."""
    from sqlmodel import select

    from console.authz.service import role_holders, role_permissions
    from console.iam.models import Role

    migrate()
    with session_scope() as session:
        roles = session.exec(select(Role).order_by(Role.id)).all()
        print(f"{'代码':<22}{'名称':<10}{'类别':<6}{'权限数':>6}{'持有人数':>8}")
        for role in roles:
            permissions = len(role_permissions(session, role_code=role.code))
            holders = len(role_holders(session, role_code=role.code))
            print(f"{role.code:<22}{role.name:<10}{role.category:<6}{permissions:>6}{holders:>8}")
    return 0


def _reset_second_factor(args: argparse.Namespace) -> int:
    """Unbind a lost second factor; the holder binds a new one at next sign-in."""
    from console.iam.service import reset_second_factor

    migrate()
    with session_scope() as session:
        reset_second_factor(session=session, account=args.account)
    print(f"已解除账号 {args.account} 的动态验证码绑定；该账号下次登录时须重新绑定。")
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


def _targets(specs: list[str], *, installed: bool = True) -> list:
    """Targets, their endpoints checked against the allow-list (the baseline when restoring)."""
    from console.backup.targets import open_target
    from console.core.outbound import configured_policy
    from console.iam.outbound_service import policy

    allowed = policy() if installed else configured_policy()
    return [open_target(spec, policy=allowed) for spec in specs]


def _print_checks(checks: list[dict]) -> None:
    for check in checks:
        mark = "通过" if check["passed"] else "未通过"
        print(f"  [{mark}] {check['name']}：{check['detail']}")


def _backup(args: argparse.Namespace) -> int:
    """Write one encrypted set to every target, then restore it into scratch and check it."""
    from console.backup.runs import back_up, passphrase_from

    migrate()
    passphrase = passphrase_from(args.passphrase_file, confirm=True)
    outcome = back_up(targets=_targets(args.to), passphrase=passphrase, verify=not args.no_verify)
    print(f"备份集 {outcome.set_id}：{outcome.message}")
    _print_checks(outcome.checks)
    return 0 if outcome.passed else 1


def _backup_verify(args: argparse.Namespace) -> int:
    """Restore a set into a scratch folder and check it (nothing live is touched)."""
    from console.backup.runs import passphrase_from, verify_set

    migrate()
    (target,) = _targets([args.source])
    outcome = verify_set(
        target=target, set_id=args.set, passphrase=passphrase_from(args.passphrase_file)
    )
    print(f"备份集 {outcome.set_id}：{outcome.message}")
    _print_checks(outcome.checks)
    return 0 if outcome.passed else 1


def _backup_list(args: argparse.Namespace) -> int:
    """The sets a target holds, newest last."""
    from console.backup.sets import set_ids

    (target,) = _targets([args.source], installed=False)
    found = set_ids(target)
    for set_id in found:
        print(set_id)
    if not found:
        print(f"{target.label} 中没有备份集")
    return 0


def _restore(args: argparse.Namespace) -> int:
    """Bring a set back onto this installation, then check it."""
    from console.backup.runs import passphrase_from, restore_set

    source, set_id = args.source, args.set
    if "/sets/" in set_id and source is None:
        source, set_id = set_id.rsplit("/sets/", 1)
        set_id = set_id.strip("/")
    if source is None:
        print("请用 --from 指定备份目标（目录或 s3://…），或给出完整的备份集位置", file=sys.stderr)
        return 2
    (target,) = _targets([source], installed=False)
    passphrase = passphrase_from(args.passphrase_file)
    if args.live:
        from console.backup.runs import restore_live_copy

        outcome = restore_live_copy(target=target, passphrase=passphrase, force=args.force)
    else:
        outcome = restore_set(target=target, set_id=set_id, passphrase=passphrase, force=args.force)
    print(f"备份集 {outcome.set_id}：{outcome.message}")
    _print_checks(outcome.checks)
    return 0 if outcome.passed else 1


def _backup_live(args: argparse.Namespace) -> int:
    """Ship to the 实时副本 targets in the foreground, every few seconds, until stopped."""
    import signal
    import time

    from console.backup.scheduled import live_once

    migrate()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        started = time.monotonic()
        try:
            print(live_once(), flush=True)
        except UserError as error:
            print(f"错误：{error}", file=sys.stderr, flush=True)
        if args.once:
            return 0
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    return 0


def _backup_reconcile(args: argparse.Namespace) -> int:
    """Settle a lake restored from the real-time copy (used by restore --live)."""
    from console.backup.reconcile import reconcile

    migrate()
    settled = reconcile(args.point)
    lost = sum(len(files) for files in settled.lost.values())
    again = sum(len(files) for files in settled.rechained.values())
    print(f"副本时点 {args.point}；未能恢复的分区 {lost} 个，重新入链 {again} 个，"
          f"另放 {len(settled.set_aside)} 个，重建汇总 {len(settled.rebuilt_days)} 天")  # fmt: skip
    return 0


def _wal_target(spec: str, passphrase_file: str | None, *, create: bool = False) -> tuple:
    """A WAL command's target and repository key (PostgreSQL calls these, not a person)."""
    from console.backup import sets
    from console.backup.runs import passphrase_from
    from console.backup.targets import open_target
    from console.core.outbound import configured_policy

    target = open_target(spec, policy=configured_policy())
    with sets.scratch_dir() as folder:
        opened = sets.open_or_create if create else sets.open_existing
        key = opened(target, passphrase_from(passphrase_file), Path(folder))
    return target, key


def _wal_basebackup(args: argparse.Namespace) -> int:
    """pg_basebackup of the configured database, shipped encrypted (weekly, say)."""
    from console.backup import wal

    target, key = _wal_target(args.to, args.passphrase_file, create=True)
    label = wal.base_backup(target, key, get_settings().db_url)
    print(f"基础备份 {label} 已写入 {target.label}")
    return 0


def _wal_restore(args: argparse.Namespace) -> int:
    """Unpack the newest (or a named) base backup and decrypt the archive beside it."""
    from console.backup import wal

    target, key = _wal_target(args.source, args.passphrase_file)
    label = args.label or wal.newest_base(target)
    wal.restore_base(target, key, label, Path(args.pgdata))
    segments = wal.fetch_all(target, key, Path(args.wal_dir))
    print(
        f"基础备份 {label} 已解到 {args.pgdata}，{segments} 个 WAL 段已解到 {args.wal_dir}。\n"
        f"接着：chown -R postgres {args.pgdata} {args.wal_dir}；在 postgresql.auto.conf 写入 "
        f"restore_command = 'cp {args.wal_dir}/%f %p'；touch {args.pgdata}/recovery.signal；"
        "启动 PostgreSQL（回放到归档末尾后自动结束恢复）"
    )
    return 0


def _backup_check(args: argparse.Namespace) -> int:
    """Run the restore checks on this installation against a manifest (used by restore)."""
    import json

    from console.backup.checks import run

    manifest = json.loads(Path(args.manifest).read_text(encoding="utf-8"))
    report = run(manifest)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_checks(report["checks"])
    return 0 if report["passed"] else 1


def _revision(args: argparse.Namespace) -> int:
    """Autogenerate a migration from model changes (developers only)."""
    from alembic import command

    command.revision(alembic_config(get_settings().db_url), message=args.message, autogenerate=True)
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    """Run the system jobs in the foreground until SIGTERM or SIGINT (leader election included)."""
    import importlib

    import console.alerts.scheduled  # each domain's scheduled module registers its jobs
    import console.backup.scheduled
    import console.iam.scheduled
    import console.interfaces.scheduled
    import console.jobs.scheduled
    import console.logs.scheduled
    import console.reports.scheduled  # noqa: F401
    from console.core import metrics
    from console.jobs.registry import REGISTRY
    from console.jobs.scheduler import Scheduler, serve

    registry = REGISTRY
    if args.registry:  # module:NAME, a registry of its own (tests)
        module, _, name = args.registry.partition(":")
        registry = getattr(importlib.import_module(module), name or "REGISTRY")
    migrate()
    metrics.setup()  # before the first worker: the job workers inherit the folder
    print(f"系统任务调度器已启动（进程 {os.getpid()}，{len(registry)} 个任务）", flush=True)
    serve(Scheduler(registry, setup=wire))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface of the console."""
    parser = argparse.ArgumentParser(prog="python -m console", description="不动产登记运维监管平台")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="创建数据目录、升级配置库、创建初始管理员")
    for role, flag, default in (
        ("sys_admin", "--sysadmin", "sysadmin"),
        ("sec_admin", "--secadmin", "secadmin"),
        ("audit_admin", "--auditadmin", "auditadmin"),
    ):
        init.add_argument(
            flag, dest=role, default=default, help=f"该管理员的账号名（默认 {default}）"
        )
    init.set_defaults(handler=_init)
    commands.add_parser("migrate", help="把配置库升级到最新版本").set_defaults(handler=_migrate)
    commands.add_parser(
        "seal-logs", help="把已结束的日子的日志封存为 Parquet（SM3 校验链）"
    ).set_defaults(handler=_seal_logs)
    commands.add_parser(
        "rebuild-rollups", help="由封存的日志重建每日汇总与办件索引（定义变化后运行）"
    ).set_defaults(handler=_rebuild_rollups)
    commands.add_parser("verify-logs", help="校验封存日志与 SM3 校验链，报告任何篡改").set_defaults(
        handler=_verify_logs
    )
    commands.add_parser(
        "lake-to-tables",
        help="把已封存的日志登记到对象存储上的日志表（Iceberg；需设置 BDC_LAKE_WAREHOUSE）",
    ).set_defaults(handler=_lake_to_tables)
    commands.add_parser(
        "load-dictionaries", help="载入种子数据字典（不覆盖管理员的修改）"
    ).set_defaults(handler=_load_dictionaries)
    commands.add_parser(
        "create-admin", help="载入内置角色并创建三员账号（已存在则不动）"
    ).set_defaults(handler=_create_admins)
    demo = commands.add_parser(
        "seed-demo", help="载入演示租户、机构、演示账号，并模拟全省一段时间的日志"
    )
    demo.add_argument("--days", type=int, default=365, help="模拟最近多少天（0 = 不模拟）")
    demo.add_argument(
        "--scale", type=float, default=0.002, help="规模：1 ≈ 每年 360 万件（约 5,000 万条日志）"
    )
    demo.add_argument("--seed", type=int, default=2026, help="随机种子：同一种子结果相同")
    demo.set_defaults(handler=_seed_demo)
    user = commands.add_parser("user", help="用户（脚本用）").add_subparsers(
        dest="sub", required=True
    )
    create = user.add_parser("create", help="创建用户并打印一次性密码")
    create.add_argument("--account", required=True)
    create.add_argument("--name", required=True, help="姓名")
    create.add_argument("--tenant", required=True, help="租户代码（6位）")
    create.add_argument("--role", action="append", help="角色代码，可重复")
    create.add_argument("--phone")
    create.add_argument("--id-number", dest="id_number")
    create.add_argument(
        "--token-only",
        dest="token_only",
        action="store_true",
        help="仅用于个人访问令牌的账号（脚本、报表工具）：不能交互登录，不因闲置被停用",
    )
    create.set_defaults(handler=_user_create)
    apikey = commands.add_parser("apikey", help="接入密钥（脚本用）").add_subparsers(
        dest="sub", required=True
    )
    key_create = apikey.add_parser("create", help="创建接入密钥并打印（仅此一次）")
    key_create.add_argument("--tenant", required=True, help="租户代码（6位）")
    key_create.add_argument("--org", help="机构名称")
    key_create.add_argument("--name", help="接入系统名称")
    key_create.add_argument(
        "--streams", required=True, help="范围，逗号分隔，如 iam.sync,logs.case_event"
    )
    key_create.add_argument(
        "--rate-limit", dest="rate_limit", type=int, default=600, help="每分钟最多调用次数"
    )
    key_create.set_defaults(handler=_apikey_create)
    token = commands.add_parser("token", help="个人访问令牌（读取接口用）").add_subparsers(
        dest="sub", required=True
    )
    token_create = token.add_parser("create", help="为账号创建个人访问令牌并打印（仅此一次）")
    token_create.add_argument("--user", required=True, help="账号")
    token_create.add_argument("--name", help="用途")
    token_create.add_argument("--days", type=int, default=90, help="有效天数（1–365）")
    token_create.set_defaults(handler=_token_create)
    key_rotate = apikey.add_parser(
        "rotate", help="轮换接入密钥：打印新密钥，旧密钥在宽限期内仍有效"
    )
    key_rotate.add_argument("key_id")
    key_rotate.add_argument("--grace-hours", dest="grace_hours", type=int, help="宽限期（小时）")
    key_rotate.set_defaults(handler=_apikey_rotate)
    key_revoke = apikey.add_parser("revoke", help="吊销接入密钥")
    key_revoke.add_argument("key_id")
    key_revoke.set_defaults(handler=_apikey_revoke)
    role = commands.add_parser("role", help="角色（脚本用）").add_subparsers(
        dest="sub", required=True
    )
    role.add_parser("list", help="列出角色").set_defaults(handler=_role_list)
    reset = commands.add_parser("reset-password", help="重置账号密码（忘记初始密码、账号被锁定时）")
    reset.add_argument("account")
    reset.set_defaults(handler=_reset_password)
    reset_factor = commands.add_parser(
        "reset-second-factor",
        help="解除账号的动态验证码绑定（手机丢失且恢复码用尽时），下次登录重新绑定",
    )
    reset_factor.add_argument("account")
    reset_factor.set_defaults(handler=_reset_second_factor)
    backup = commands.add_parser(
        "backup", help="备份：配置库、待封存记录、日志湖、密钥与报表，加密写入一个或多个目标"
    )
    backup.add_argument(
        "--to", action="append", required=True, help="备份目标：目录，或 s3://桶/前缀?endpoint=…"
    )
    backup.add_argument("--passphrase-file", help="备份口令文件（权限 600）；也可用环境变量")
    backup.add_argument("--no-verify", action="store_true", help="写完不做恢复校验")
    backup.set_defaults(handler=_backup)
    restore = commands.add_parser("restore", help="从备份集恢复到本机数据目录与配置库，并校验")
    restore.add_argument(
        "set", nargs="?", default="latest", help="备份集编号、latest，或完整位置（目标/sets/编号）"
    )
    restore.add_argument("--live", action="store_true", help="从异地实时副本恢复（而非备份集）")
    restore.add_argument("--from", dest="source", help="备份目标：目录或 s3://…")
    restore.add_argument("--passphrase-file", help="备份口令文件（权限 600）")
    restore.add_argument("--force", action="store_true", help="覆盖已有安装（原目录改名保留）")
    restore.set_defaults(handler=_restore)
    verify_set = commands.add_parser(
        "backup-verify", help="把备份集恢复到临时位置并校验（不影响在用数据）"
    )
    verify_set.add_argument("set", nargs="?", default="latest", help="备份集编号，默认最新")
    verify_set.add_argument("--from", dest="source", required=True, help="备份目标")
    verify_set.add_argument("--passphrase-file", help="备份口令文件（权限 600）")
    verify_set.set_defaults(handler=_backup_verify)
    listing = commands.add_parser("backup-list", help="列出备份目标中的备份集")
    listing.add_argument("--from", dest="source", required=True, help="备份目标")
    listing.set_defaults(handler=_backup_list)
    shipping = commands.add_parser(
        "backup-live", help="在前台持续同步异地实时副本（通常由系统任务 backup.live 每 15 秒完成）"
    )
    shipping.add_argument("--interval", type=float, default=15.0, help="同步间隔（秒）")
    shipping.add_argument("--once", action="store_true", help="同步一次后退出")
    shipping.set_defaults(handler=_backup_live)
    settle = commands.add_parser("backup-reconcile", help="（内部）整理从实时副本恢复的日志湖")
    settle.add_argument("--point", required=True)
    settle.set_defaults(handler=_backup_reconcile)
    check = commands.add_parser("backup-check", help="（内部）按清单校验恢复后的安装")
    check.add_argument("--manifest", required=True)
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=_backup_check)
    base = commands.add_parser(
        "wal-basebackup", help="PostgreSQL 基础备份（pg_basebackup），加密写入目标"
    )
    base.add_argument("--to", required=True, help="备份目标")
    base.add_argument("--passphrase-file", help="备份口令文件（权限 600）")
    base.set_defaults(handler=_wal_basebackup)
    unpack = commands.add_parser(
        "wal-restore", help="PostgreSQL 恢复：解出基础备份与归档的 WAL 段（之后由 PostgreSQL 回放）"
    )
    unpack.add_argument("--from", dest="source", required=True, help="备份目标")
    unpack.add_argument("--passphrase-file", help="备份口令文件（权限 600）")
    unpack.add_argument("--label", default="", help="基础备份标签，默认最新")
    unpack.add_argument("--pgdata", required=True, help="空的 PostgreSQL 数据目录")
    unpack.add_argument(
        "--wal-dir", required=True, help="解出 WAL 段的目录（restore_command 从此复制）"
    )
    unpack.set_defaults(handler=_wal_restore)
    serving.add_commands(commands)
    jobs = commands.add_parser(
        "scheduler", help="前台运行系统任务调度（多进程时只有主节点运行），直到 SIGTERM/SIGINT"
    )
    jobs.add_argument("--registry", help="改用另一组任务：模块:变量名（测试用）")
    jobs.set_defaults(handler=_scheduler)
    revision = commands.add_parser("revision", help="按模型变化生成迁移脚本（开发用）")
    revision.add_argument("message")
    revision.set_defaults(handler=_revision)
    return parser


# Commands checked against the configured engines before they run (see ``main``).
NEEDS_ALL_ENGINES = frozenset({"serve", "scheduler"})
NEEDS_DATABASE = frozenset({"init", "migrate"})
NEEDS_LAKE = frozenset({"lake-to-tables", "seal-logs", "verify-logs", "rebuild-rollups"})


def main(argv: list[str] | None = None) -> int:
    """Entry point; Chinese message and exit status 2 on a user-facing error."""
    args = build_parser().parse_args(argv)
    try:
        wire()
        # A dead PostgreSQL or Redis: one line, not a traceback. Only for what needs them:
        # wal-restore runs with PostgreSQL stopped, a backup must not wait for Redis.
        if args.command in NEEDS_ALL_ENGINES:
            dependencies.require_all()
        elif args.command in NEEDS_DATABASE:
            dependencies.require_all(only={dependencies.DATABASE})
        elif args.command in NEEDS_LAKE:
            dependencies.require_all(only={dependencies.DATABASE, dependencies.OBJECT_STORE})
        return args.handler(args)
    except UserError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except OSError as error:  # a full disk, a missing folder: said, not a traceback
        print(
            f"错误：文件读写失败（{error.strerror or error}）：{error.filename or ''}",
            file=sys.stderr,
        )
        return 2
