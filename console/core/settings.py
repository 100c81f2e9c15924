"""Settings read from ``BDC_*`` environment variables, with defaults for one machine."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from console.core.errors import SettingsError
from console.core.net import parse_networks

ENV_PREFIX = "BDC_"

# Chinese descriptions double as the README's configuration table and as the field
# names in error messages, so an operator sees the same words everywhere.
_DESCRIPTIONS: dict[str, str] = {
    "data_dir": "数据目录（数据库文件、密钥、日志湖、运行日志）",
    "database_url": "配置库连接串；留空则使用数据目录下的 SQLite 文件",
    "session_idle_minutes": "会话空闲超时（分钟）",
    "session_max_hours": "会话最长时长（小时）：登录满这么久须重新登录，无论是否活动",
    "account_inactive_days": (
        "交互登录账号连续多少天未登录即由系统任务停用（同步账号、仅令牌账号除外）"
    ),
    "login_max_failures": "连续登录失败多少次后锁定账号",
    "login_lock_minutes": "账号锁定时长（分钟）；锁定期间的尝试只记录，不延长锁定",
    "login_attempts_per_address": "同一来源地址每 10 分钟最多尝试登录次数（防猜测的主要手段）",
    "outbound_allow": (
        "出站调用（接口探测、测试连接、共享推送）额外允许的网段与主机名（逗号分隔）；"
        "未列出的内网、本机与保留地址一律拒绝"
    ),
    "trusted_proxies": (
        "可信反向代理地址或网段（逗号分隔）；仅来自这些地址的请求才采用 X-Forwarded-For"
    ),
    "session_cookie_secure": (
        "会话 Cookie 总是带 Secure 标记（经 HTTPS 或可信代理的 X-Forwarded-Proto: https 访问时"
        "自动带上）"
    ),
    "password_min_length": "密码最小长度",
    "password_history": "新密码不得与最近几次密码相同",
    "password_max_age_days": "密码有效期（天），到期后登录须修改",
    "host": "监听地址（默认仅本机；对外服务请置于反向代理之后）",
    "port": "控制台端口（生产模式下页面与接口共用）",
    "dev_backend_port": "开发模式（make dev）下的后端端口",
    "log_level": "运行日志级别",
    "log_file_retention_days": "运行日志文件保留天数（审计日志另有保留策略）",
    "province_code": "本省行政区划代码（省级租户代码）",
    "province_name": "本省名称",
    "key_rotation_grace_hours": "接入密钥轮换后旧密钥继续有效的小时数（宽限期）",
    "probe_interval_seconds": "共享接口定时健康探测的间隔（秒）",
    "probe_failure_threshold": "连续探测失败多少次后标记接口异常",
    "rate_limit_window_seconds": "接口限流计数窗口（秒）；限额按每分钟配置，测试时可缩短",
    "log_retention_days": "日志保留天数（不少于 365 天；更早的整日数据由清理任务删除并记录）",
    "ingest_max_body_mb": "日志推送单次请求体上限（MB，解压后计），超出返回 413",
    "ingest_max_line_kb": "日志推送单行上限（KB）；超出的行逐行拒收，其余照常保存",
    "quarantine_retention_days": "拒收记录（被拒收的推送行，加密保存）保留天数",
    "scheduler_enabled": "是否在控制台后端运行系统任务（日志封存与清理、接口探测、共享任务等）",
    "scheduler_leader_poll_seconds": "多进程共用配置库时仅主节点运行系统任务，其余每隔几秒尝试接替",
    "scheduler_term_grace_seconds": "系统任务超时后先请求退出，等待多少秒仍未退出则强制终止",
    "channel_alert_rejection_rate": "机构通道驳回率超过此值（0–1）时在机构通道统计中标红提醒",
    "channel_alert_refusal_rate": "机构通道调用被拒率超过此值（0–1）时在机构通道统计中标红提醒",
    "sm4_key": "个人信息加密密钥（SM4，32位十六进制）；留空则使用数据目录 keys/sm4.key",
    "hmac_key": "个人信息检索摘要密钥（HMAC-SM3，64位十六进制）；留空则使用 keys/hmac.key",
    "chain_key": "日志校验链密钥（HMAC-SM3，64位十六进制）；留空则使用 keys/chain.key",
    "wal_spool_dir": (
        "PostgreSQL 归档暂存目录：archive_command 把 WAL 段复制到此，"
        "实时副本任务加密送往异地后删除；留空则不送 WAL（SQLite 无需设置）"
    ),
    "backup_passphrase_file": (
        "备份口令文件（由安全管理员提供，放在数据目录之外，权限 600）：定时备份、立即备份与"
        "恢复校验读取；留空则读取环境变量 BDC_BACKUP_PASSPHRASE"
    ),
    "external_url": (
        "控制台对外访问地址（告警邮件与群消息中的链接以此开头），如 https://bdc.example.gov.cn"
    ),
    "alert_eval_seconds": "告警规则评估周期（秒，仅主节点评估）",
    "metrics_token": (
        "/metrics 访问令牌（Authorization: Bearer …）；留空则仅允许 BDC_METRICS_ALLOW 中的地址"
    ),
    "metrics_allow": "无需令牌即可读取 /metrics 的地址或网段（逗号分隔）",
    "syslog_target": (
        "操作日志与异常日志转发的 syslog 收集器：tcp://主机:端口（RFC 5424，RFC 6587 "
        "八位组计数分帧）或 tls://主机:端口（RFC 5425）；留空则不转发"
    ),
    "syslog_ca_file": (
        "tls:// 转发时校验收集器证书所用的 CA 证书文件（PEM）；留空则使用系统信任的 CA"
    ),
    "syslog_queue_max": "syslog 收集器不可用时内存中最多暂存的记录数，超出的丢弃并计数",
    "redis_url": (
        "共享状态 Redis 地址（redis://、rediss:// 或 unix://）：多个控制台进程或节点共用页面会话"
        "状态、接口限流与登录尝试计数；留空则只在本进程内（单机默认）"
    ),
    "lake_warehouse": (
        "日志表仓库（集群部署）：s3://存储桶/前缀。设置后每个封存文件原样存入对象存储并登记到"
        "该日志类型的 Apache Iceberg 表（目录在配置库中），检索、追踪、汇总与导出经表读取；"
        "留空则只用本机日志湖（单机默认）"
    ),
    "lake_s3_endpoint": "日志表仓库的对象存储服务地址（S3 兼容，如 https://oss.example.gov.cn）",
    "lake_s3_region": "日志表仓库的对象存储区域",
    "lake_s3_access_key_id": "日志表仓库的对象存储访问密钥 ID",
    "lake_s3_secret_access_key": "日志表仓库的对象存储访问密钥",
    "lake_local_days": (
        "日志表模式下本机保留最近多少天的封存文件副本：更早日期的文件在对象存储上核对摘要一致后"
        "从本机删除，只在对象存储上（0 表示登记后即删除）"
    ),
    "seal_piece_rows": (
        "封存与合并每次最多在内存中处理的日志条数：一天的待封存日志多于此数时分多个文件封存，"
        "合并后的文件也不超过此数（约每万条 15 MB 内存）"
    ),
    "pending_cache_mb": (
        "统计看板缓存的待封存日志解码结果的内存上限（MB，本进程所有日志类型合计；0 表示不缓存，"
        "每次读取重新解码）"
    ),
    "heartbeat_url": (
        "心跳地址（死信开关）：主节点每分钟向此地址发送一次请求，外部监控在收不到时告警；"
        "留空则只提供 /api/v1/health/heartbeat 供外部轮询"
    ),
}


_SECRET_FIELDS = frozenset(
    {"sm4_key", "hmac_key", "chain_key", "metrics_token", "redis_url", "lake_s3_secret_access_key"}
)


class Settings(BaseSettings):
    """Runtime configuration; every field maps to ``BDC_<FIELD_NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    database_url: str = ""
    session_idle_minutes: Annotated[int, Field(ge=1, le=480)] = 30
    session_max_hours: Annotated[int, Field(ge=1, le=72)] = 12
    account_inactive_days: Annotated[int, Field(ge=30, le=3650)] = 90
    login_max_failures: Annotated[int, Field(ge=3, le=20)] = 5
    login_lock_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    login_attempts_per_address: Annotated[int, Field(ge=5, le=10000)] = 30
    trusted_proxies: str = ""
    outbound_allow: str = ""
    session_cookie_secure: bool = False
    password_min_length: Annotated[int, Field(ge=8, le=64)] = 10
    password_history: Annotated[int, Field(ge=1, le=24)] = 5
    password_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 90
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 3000
    dev_backend_port: Annotated[int, Field(ge=1, le=65535)] = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    province_code: Annotated[str, Field(pattern=r"^\d{2}0000$")] = "330000"
    province_name: Annotated[str, Field(min_length=2, max_length=20)] = "浙江省"
    key_rotation_grace_hours: Annotated[int, Field(ge=0, le=720)] = 24
    probe_interval_seconds: Annotated[int, Field(ge=30, le=86400)] = 300
    probe_failure_threshold: Annotated[int, Field(ge=1, le=20)] = 3
    scheduler_enabled: bool = True
    scheduler_leader_poll_seconds: Annotated[int, Field(ge=1, le=60)] = 15
    scheduler_term_grace_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    rate_limit_window_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    ingest_max_body_mb: Annotated[int, Field(ge=1, le=256)] = 16
    ingest_max_line_kb: Annotated[int, Field(ge=1, le=65536)] = 1024
    quarantine_retention_days: Annotated[int, Field(ge=7, le=3650)] = 180
    log_retention_days: Annotated[int, Field(ge=365, le=3650)] = 365
    channel_alert_rejection_rate: Annotated[float, Field(ge=0, le=1)] = 0.05
    channel_alert_refusal_rate: Annotated[float, Field(ge=0, le=1)] = 0.1
    sm4_key: SecretStr | None = None
    hmac_key: SecretStr | None = None
    chain_key: SecretStr | None = None
    backup_passphrase_file: str = ""
    wal_spool_dir: str = ""
    external_url: str = ""
    alert_eval_seconds: Annotated[int, Field(ge=10, le=3600)] = 60
    metrics_token: SecretStr | None = None
    metrics_allow: str = "127.0.0.1, ::1"
    syslog_target: Annotated[str, Field(pattern=r"^((tcp|tls)://[^/\s]+:\d{1,5})?$")] = ""
    syslog_ca_file: str = ""
    syslog_queue_max: Annotated[int, Field(ge=100, le=1_000_000)] = 10_000
    heartbeat_url: str = ""
    redis_url: Annotated[str, Field(pattern=r"^((redis|rediss|unix)://\S+)?$")] = ""
    lake_warehouse: Annotated[
        str, Field(pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?)?$")
    ] = ""
    lake_s3_endpoint: Annotated[str, Field(pattern=r"^(https?://[^\s/]+/?)?$")] = ""
    lake_s3_region: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")] = "us-east-1"
    lake_s3_access_key_id: str = ""
    lake_s3_secret_access_key: SecretStr | None = None
    lake_local_days: Annotated[int, Field(ge=0, le=3650)] = 7
    seal_piece_rows: Annotated[int, Field(ge=1000, le=5_000_000)] = 100_000
    pending_cache_mb: Annotated[int, Field(ge=0, le=65536)] = 256

    @field_validator(
        "sm4_key",
        "hmac_key",
        "chain_key",
        "metrics_token",
        "lake_s3_secret_access_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("sm4_key")
    @classmethod
    def _sm4_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{32}", value.get_secret_value()):
            raise ValueError("应为32位十六进制字符（16字节）")
        return value

    @field_validator("hmac_key", "chain_key")
    @classmethod
    def _hmac_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", value.get_secret_value()):
            raise ValueError("应为64位十六进制字符（32字节）")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("outbound_allow")
    @classmethod
    def _outbound_allow(cls, value: str) -> str:
        from console.core.outbound import OutboundPolicy

        OutboundPolicy.parse(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        parse_networks(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("仅支持 sqlite:/// 或 postgresql+psycopg:// 连接串")
        return value

    @property
    def resolved_data_dir(self) -> Path:
        """Absolute data directory."""
        return self.data_dir.expanduser().resolve()

    @property
    def db_url(self) -> str:
        """Database URL, defaulting to ``<data_dir>/console.db``."""
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'console.db'}"

    @property
    def key_dir(self) -> Path:
        """Folder of the generated key files (mode 0700, files 0600)."""
        return self.resolved_data_dir / "keys"

    @property
    def lake_dir(self) -> Path:
        """Folder of the log lake (the ingest write-ahead log and the sealed Parquet days)."""
        return self.resolved_data_dir / "lake"

    @property
    def log_dir(self) -> Path:
        """Folder of the rotating runtime log files."""
        return self.resolved_data_dir / "logs"


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, Chinese description) for every setting, for docs and the UI."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append((f"{ENV_PREFIX}{name.upper()}", default, _DESCRIPTIONS[name]))
    return rows


def _explain(error: ValidationError) -> str:
    """Turn pydantic's errors into one Chinese sentence per bad variable."""
    reasons = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "?"
        variable = f"{ENV_PREFIX}{name.upper()}"
        label = _DESCRIPTIONS.get(name, name)
        shown = "（已隐藏）" if name in _SECRET_FIELDS else repr(item.get("input"))
        reasons.append(f"配置项 {variable}（{label}）取值 {shown} 无效：{_reason(item, name)}")
    return "；".join(reasons)


# What a setting checked by a pattern should look like.
_PATTERN_HINTS = {
    "province_code": "应为以 0000 结尾的 6 位省级区划代码",
    "syslog_target": "应为 tcp://主机:端口 或 tls://主机:端口",
    "redis_url": "应以 redis://、rediss:// 或 unix:// 开头",
    "lake_warehouse": "应为 s3://存储桶/前缀（存储桶名为 3–63 位小写字母、数字、点或连字符）",
    "lake_s3_endpoint": "应为 http:// 或 https:// 开头的服务地址（不带路径）",
    "lake_s3_region": "应为小写字母、数字与连字符",
}


def _reason(item: dict, name: str) -> str:
    ctx = item.get("ctx") or {}
    kind = item["type"]
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "应为整数"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "literal_error":
        return f"应为以下之一：{ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return f"格式不正确（{_PATTERN_HINTS.get(name, '请对照说明')}）"
    if kind in {"string_too_short", "string_too_long"}:
        return "长度不符合要求"
    if kind == "value_error":
        return str(ctx.get("error", item["msg"]))
    return str(item["msg"])


def load_settings() -> Settings:
    """Read settings from the environment, raising a Chinese ``SettingsError`` when bad."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None


@functools.cache
def get_settings() -> Settings:
    """Process-wide settings (tests call ``get_settings.cache_clear()`` after changing env)."""
    return load_settings()
