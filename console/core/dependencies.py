"""The engines a console process cannot work without, checked at start and while running.

In the embedded default there is only the SQLite file. In cluster mode the configuration
database is PostgreSQL and shared state lives in Redis: when one of them cannot be reached
the process refuses to start with one Chinese line naming the setting and the address,
``/api/v1/health`` answers 503 naming it, and a request that needs it gets 503 with
``Retry-After`` instead of a 500 (or a 200 for records that were not made durable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from console.core.errors import UserError
from console.core.settings import get_settings

CONNECT_TIMEOUT_S = 3
RETRY_AFTER_S = 5
DATABASE = "配置库"
REDIS = "Redis"
OBJECT_STORE = "对象存储"


class DependencyUnavailable(UserError):
    """An engine the console needs does not answer."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Dependency:
    """One engine: its Chinese name, the setting naming it, its address and a check."""

    name: str
    variable: str
    address: str
    check: Callable[[], None]

    def refusal(self, error: BaseException) -> str:
        """The one line an operator reads when the engine does not answer."""
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"无法连接{self.name}（{self.variable}={self.address}）：{reason[:200]}"


def safe_address(url: str) -> str:
    """A connection URL without its password or query (which may carry one), for messages."""
    try:
        shown = make_url(url).set(query={}).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL: drop whatever precedes '@'
        scheme, _, rest = url.partition("://")
        shown = f"{scheme}://{rest.rpartition('@')[2]}" if rest else url
    return shown.split("?", 1)[0]


def _check_database(url: str) -> None:
    engine = sa.create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()


def redis_client(url: str) -> redis.Redis:
    """A client that gives up quickly, so a dead Redis answers 503 rather than hanging."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S
    )


def _check_redis(url: str) -> None:
    client = redis_client(url)
    try:
        client.ping()
    finally:
        client.close()


def object_store_client(*, endpoint: str, region: str, key_id: str, secret: str, attempts: int = 3):
    """An S3 client that gives up quickly on an address that does not answer."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region,
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=30,
            retries={"max_attempts": attempts, "mode": "standard"},
        ),
    )


def _check_object_store() -> None:
    settings = get_settings()
    secret = settings.lake_s3_secret_access_key
    client = object_store_client(
        endpoint=settings.lake_s3_endpoint,
        region=settings.lake_s3_region,
        key_id=settings.lake_s3_access_key_id,
        secret=secret.get_secret_value() if secret else "",
        attempts=1,
    )
    bucket = settings.lake_warehouse.removeprefix("s3://").partition("/")[0]
    client.head_bucket(Bucket=bucket)


def configured() -> list[Dependency]:
    """The shared engines this configuration names (none in the embedded default)."""
    settings = get_settings()
    found = []
    database = settings.database_url
    if database and make_url(database).get_backend_name() != "sqlite":
        check = functools.partial(_check_database, database)
        found.append(Dependency(DATABASE, "BDC_DATABASE_URL", safe_address(database), check))
    if settings.redis_url:
        check = functools.partial(_check_redis, settings.redis_url)
        found.append(Dependency(REDIS, "BDC_REDIS_URL", safe_address(settings.redis_url), check))
    if settings.lake_warehouse:
        address = settings.lake_s3_endpoint or f"AWS S3 {settings.lake_s3_region}"
        found.append(Dependency(OBJECT_STORE, "BDC_LAKE_S3_ENDPOINT", address, _check_object_store))
    return found


def failing() -> list[tuple[Dependency, str]]:
    """Each configured engine that does not answer now, with the line that says so."""
    problems = []
    for dependency in configured():
        try:
            dependency.check()
        except Exception as error:  # any failure to answer is the same to the operator
            problems.append((dependency, dependency.refusal(error)))
    return problems


def require_all(only: set[str] | None = None) -> None:
    """Refuse to start unless every configured engine (or those named in ``only``) answers.

    Raises:
        DependencyUnavailable: the first engine that does not, in one Chinese line.
    """
    for dependency, line in failing():
        if only is None or dependency.name in only:
            raise DependencyUnavailable(dependency.name, line)


def unavailable(error: BaseException) -> str | None:
    """The engine a failed request was waiting for, or None when the failure is not that."""
    if isinstance(error, DependencyUnavailable):
        return error.name
    if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return REDIS
    if _object_store_unreachable(error):
        return OBJECT_STORE
    if isinstance(error, sa.exc.DBAPIError) and (
        error.connection_invalidated or _lost_connection(error.orig)
    ):
        return DATABASE
    return None


# PostgreSQL's connection exceptions (class 08) and administrator shutdowns (57P01-03).
_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")


def _lost_connection(orig: BaseException | None) -> bool:
    """A psycopg error that means the server was not reached or went away.

    A deadlock, a timeout, a full local disk or a missing table are not that: they stay
    500s with their trace in the log, not a 503 sending operators to PostgreSQL.
    """
    if not isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = getattr(orig, "sqlstate", None)
    return state is None or state.startswith(_CONNECTION_STATES)


def _object_store_unreachable(error: BaseException) -> bool:
    """boto3's connection errors, and the object-store readers' (Arrow's and Polars')."""
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(error, BotoConnectionError):
        return True
    text = str(error)
    return isinstance(error, OSError | RuntimeError) and any(
        sign in text for sign in _OBJECT_STORE_SIGNS
    )


# How Arrow's S3 file system and Polars' object_store say the server was not reached.
_OBJECT_STORE_SIGNS = (
    "AWS Error NETWORK_CONNECTION",
    "error sending request",
    "Connection refused",
)


def unavailable_message(name: str) -> str:
    """What a caller reads in a 503 body."""
    return f"{name}暂时无法连接，请稍后重试"
