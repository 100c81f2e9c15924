"""The sealed lake as Apache Iceberg tables on S3-compatible object storage (cluster mode).

With ``BDC_LAKE_WAREHOUSE`` set (``s3://bucket/prefix``) every sealed part is put on the object
store byte for byte — the chain's digest stays valid over it — beside its encrypted lines as
sent, and registered in its stream's table with ``add_files`` (pyiceberg's SQL catalog, kept
in the configuration database). Each table is partitioned by identity on ``day``, the
Asia/Shanghai calendar day every sealed part carries as a column: Iceberg's own ``day()``
transform is UTC, and ``add_files`` takes a file only when it holds one partition value.

Readers keep one consistent view: the table snapshot a seal produced is recorded in the same
SQLite transaction that makes the part current and deletes its pending copies
(``lake_table_head`` in ``ingest.db``), and a reader scans the table at the snapshot its
catalogue snapshot names — so a day is counted pending or sealed, never both.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from console.core.dependencies import object_store_client
from console.core.settings import get_settings
from console.logs.parts import sealed_schema

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table

# Plan scans with pyiceberg (the optional native planner is not installed).
os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")

NAMESPACE = "bdc"
OBJECT_STORE = "对象存储"
COMMIT_ATTEMPTS = 5
_HEAD_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS lake_table_head ("
    " stream TEXT PRIMARY KEY, snapshot_id INTEGER NOT NULL)"
)


@dataclass(frozen=True)
class TableLake:
    """Where the tables and their files live: the catalog database and the warehouse."""

    catalog_url: str
    warehouse: str  # s3://bucket/prefix
    endpoint: str
    region: str
    access_key: str
    secret_key: str

    @property
    def bucket(self) -> str:
        """The warehouse's bucket."""
        return self.warehouse.removeprefix("s3://").partition("/")[0]

    @property
    def prefix(self) -> str:
        """The warehouse's key prefix inside the bucket (no slashes at either end)."""
        return self.warehouse.removeprefix("s3://").partition("/")[2].strip("/")

    def object_key(self, stream: str, relative: str) -> str:
        """The object key of a lake file (``relative`` to its stream folder)."""
        return "/".join(part for part in (self.prefix, stream, relative) if part)

    def uri(self, stream: str, relative: str) -> str:
        """The ``s3://`` location of a lake file, as the table lists it."""
        return f"s3://{self.bucket}/{self.object_key(stream, relative)}"

    def catalog_properties(self) -> dict[str, str]:
        """Pyiceberg's settings for the catalog and its file IO."""
        found = {"uri": self.catalog_url, "warehouse": self.warehouse, "s3.region": self.region}
        if self.endpoint:
            found["s3.endpoint"] = self.endpoint
        if self.access_key:
            found["s3.access-key-id"] = self.access_key
            found["s3.secret-access-key"] = self.secret_key
        return found

    def storage_options(self) -> dict[str, str]:
        """Polars' object-store settings (``scan_iceberg`` does not take the table's)."""
        found = {"aws_region": self.region}
        if self.endpoint:
            found["aws_endpoint_url"] = self.endpoint
            found["aws_allow_http"] = str(self.endpoint.startswith("http://")).lower()
            found["aws_virtual_hosted_style_request"] = "false"
        if self.access_key:
            found["aws_access_key_id"] = self.access_key
            found["aws_secret_access_key"] = self.secret_key
        return found


def configured() -> TableLake | None:
    """The table lake this configuration names, or None (the local lake only)."""
    settings = get_settings()
    if not settings.lake_warehouse:
        return None
    secret = settings.lake_s3_secret_access_key
    return TableLake(
        catalog_url=settings.db_url,
        warehouse=settings.lake_warehouse.rstrip("/"),
        endpoint=settings.lake_s3_endpoint.rstrip("/"),
        region=settings.lake_s3_region,
        access_key=settings.lake_s3_access_key_id,
        secret_key=secret.get_secret_value() if secret else "",
    )


@functools.cache
def catalog(lake: TableLake) -> SqlCatalog:
    """The lake's catalog (one per process and configuration)."""
    from pyiceberg.catalog.sql import SqlCatalog

    found = SqlCatalog(NAMESPACE, **lake.catalog_properties())
    found.create_namespace_if_not_exists(NAMESPACE)
    return found


def s3_client(lake: TableLake):
    """A boto3 client for the warehouse's bucket (one per process and configuration)."""
    return _s3_client(lake)


@functools.cache
def _s3_client(lake: TableLake):
    return object_store_client(endpoint=lake.endpoint, region=lake.region,
                               key_id=lake.access_key, secret=lake.secret_key)  # fmt: skip


def _iceberg_schema(stream: str):
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        BooleanType,
        DateType,
        LongType,
        NestedField,
        StringType,
        TimestamptzType,
    )

    kinds = {pl.String: StringType(), pl.Int64: LongType(), pl.Boolean: BooleanType(),
             pl.Date: DateType()}  # fmt: skip
    fields = []
    for number, (name, kind) in enumerate(sealed_schema(stream).items(), start=1):
        iceberg = TimestamptzType() if isinstance(kind, pl.Datetime) else kinds[kind]
        fields.append(NestedField(number, name, iceberg, required=False))
    return Schema(*fields)


def table(lake: TableLake, stream: str) -> Table:
    """The stream's table, created on first use (partitioned by identity on ``day``)."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import IdentityTransform

    identifier = f"{NAMESPACE}.{stream}"
    found = catalog(lake)
    schema = _iceberg_schema(stream)
    if not found.table_exists(identifier):
        day = schema.find_field("day").field_id
        spec = PartitionSpec(PartitionField(day, 1000, IdentityTransform(), "day"))
        location = f"s3://{lake.bucket}/{lake.object_key(stream, '_table')}"
        found.create_table_if_not_exists(identifier, schema, location=location, partition_spec=spec)
    current = found.load_table(identifier)
    missing = [f for f in schema.fields if f.name not in current.schema().column_names]
    if missing:  # a field the contract gained since the table was made
        with current.update_schema() as update:
            for field in missing:
                update.add_column(field.name, field.field_type)
        current = found.load_table(identifier)
    return current


def upload(lake: TableLake, stream: str, root: Path, relative: str) -> None:
    """Put a sealed part and its lines file on the object store, byte for byte."""
    client = s3_client(lake)
    part = root / relative
    for path in (part, part.with_suffix(".lines")):
        if path.exists():
            key = lake.object_key(stream, str(path.relative_to(root)))
            client.upload_file(str(path), lake.bucket, key)


def object_sm3(lake: TableLake, stream: str, relative: str) -> str | None:
    """The SM3 digest of a lake file's object (None: no such object)."""
    from botocore.exceptions import ClientError

    from console.core.crypto import sm3_hex

    try:
        answer = s3_client(lake).get_object(
            Bucket=lake.bucket, Key=lake.object_key(stream, relative)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    return sm3_hex(answer["Body"].read())


def object_exists(lake: TableLake, stream: str, relative: str) -> bool:
    """Whether a lake file's object is on the store."""
    from botocore.exceptions import ClientError

    try:
        s3_client(lake).head_object(Bucket=lake.bucket, Key=lake.object_key(stream, relative))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
            return False
        raise
    return True


def fetch(lake: TableLake, stream: str, root: Path, relative: str) -> None:
    """Bring an evicted part and its lines file back to local disk (whole, or not at all)."""
    client = s3_client(lake)
    part = root / relative
    for path in (part.with_suffix(".lines"), part):  # the part last: it marks the pair whole
        name = str(path.relative_to(root))
        if path.exists() or (path != part and not object_exists(lake, stream, name)):
            continue  # (parts sealed before the lines files existed have none)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".fetching")
        client.download_file(lake.bucket, lake.object_key(stream, name), str(temporary))
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.rename(path)


def delete_objects(lake: TableLake, files: list[str]) -> None:
    """Delete lake files' objects (``stream/date=…/part-…``, each with its lines file)."""
    client = s3_client(lake)
    for file in files:
        stream, _, relative = file.partition("/")
        for name in (relative, str(Path(relative).with_suffix(".lines"))):
            client.delete_object(Bucket=lake.bucket, Key=lake.object_key(stream, name))


def _data_files(current: Table) -> dict[str, DataFile]:
    """The data files the table's current snapshot lists, by path."""
    if current.current_snapshot() is None:
        return {}
    return {task.file.file_path: task.file for task in current.scan().plan_files()}


def table_files(current: Table) -> set[str]:
    """The paths of the data files the table's current snapshot lists."""
    return set(_data_files(current))


def _committed(lake: TableLake, stream: str, change: Callable[[Table], bool]) -> int:
    """Apply ``change`` to the fresh table until it commits; returns the table's snapshot.

    ``change`` returns False when there is nothing to do; a commit that lost a race with
    another node's is retried on the refreshed table.
    """
    from pyiceberg.exceptions import CommitFailedException

    for attempt in range(COMMIT_ATTEMPTS):
        current = table(lake, stream)
        try:
            if not change(current):
                return _snapshot_id(current)
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            continue
        return _snapshot_id(catalog(lake).load_table(f"{NAMESPACE}.{stream}"))
    raise AssertionError("unreachable")


def publish(lake: TableLake, stream: str, root: Path, relatives: list[str]) -> int:
    """Register sealed parts (uploading them first) in the table; returns its new snapshot.

    A part the table already lists (a seal cut short after its commit) is not added again.
    """
    uploaded: set[str] = set()

    def add(current: Table) -> bool:
        listed = table_files(current)
        wanted = [r for r in relatives if lake.uri(stream, r) not in listed]
        for relative in wanted:
            if relative not in uploaded:
                upload(lake, stream, root, relative)
                uploaded.add(relative)
        if wanted:
            current.add_files([lake.uri(stream, r) for r in wanted], check_duplicate_files=False)
        return bool(wanted)

    return _committed(lake, stream, add)


def replace_files(lake: TableLake, stream: str, root: Path, olds: list[str], new: str) -> int:
    """Swap parts for the one file that replaced them in a single snapshot; returns it.

    Readers at the snapshot see the old files or the new one, never both. A swap cut short
    after its commit finds nothing left to do.
    """
    from pyiceberg.table import _parquet_files_to_data_files

    uploaded: set[str] = set()

    def swap(current: Table) -> bool:
        listed = _data_files(current)
        gone = [listed[uri] for uri in (lake.uri(stream, old) for old in olds) if uri in listed]
        wanted = lake.uri(stream, new) not in listed
        if not gone and not wanted:
            return False
        if wanted and new not in uploaded:
            upload(lake, stream, root, new)
            uploaded.add(new)
        with (
            current.transaction() as transaction,
            transaction.update_snapshot().overwrite() as overwrite,
        ):
            for data_file in gone:
                overwrite.delete_data_file(data_file)
            for data_file in _parquet_files_to_data_files(
                table_metadata=transaction.table_metadata,
                file_paths=[lake.uri(stream, new)] if wanted else [],
                io=current.io,
            ):
                overwrite.append_data_file(data_file)
        return True

    return _committed(lake, stream, swap)


def drop_days(lake: TableLake, stream: str, days: list[str]) -> int:
    """Take whole days out of the table (a purge after retention); returns the new snapshot."""
    from pyiceberg.expressions import In

    current = table(lake, stream)
    current.delete(In("day", [date.fromisoformat(day) for day in days]))
    return _snapshot_id(catalog(lake).load_table(f"{NAMESPACE}.{stream}"))


def _snapshot_id(current: Table) -> int:
    snap = current.current_snapshot()
    return snap.snapshot_id if snap is not None else 0


def set_head(db: sqlite3.Connection, stream: str, snapshot_id: int) -> None:
    """Record the snapshot readers use (inside the caller's transaction)."""
    db.execute(_HEAD_SCHEMA)
    db.execute(
        "INSERT INTO lake_table_head (stream, snapshot_id) VALUES (?, ?)"
        " ON CONFLICT (stream) DO UPDATE SET snapshot_id = excluded.snapshot_id",
        (stream, snapshot_id),
    )


def head(db: sqlite3.Connection, stream: str) -> int | None:
    """The snapshot a reader of this catalogue snapshot scans (None: never published)."""
    try:
        row = db.execute(
            "SELECT snapshot_id FROM lake_table_head WHERE stream = ?", (stream,)
        ).fetchone()
    except sqlite3.OperationalError:  # no table yet: nothing was published
        return None
    return None if row is None else row[0]


@functools.lru_cache(maxsize=64)
def _table_at(lake: TableLake, stream: str, snapshot_id: int) -> Table:
    """The table's metadata as of a snapshot (metadata files never change once written)."""
    return catalog(lake).load_table(f"{NAMESPACE}.{stream}")


def scan(
    lake: TableLake,
    stream: str,
    snapshot_id: int,
    *,
    low: str | None = None,
    high: str | None = None,
    days: list[str] | None = None,
) -> pl.LazyFrame | None:
    """The stream's sealed events at a snapshot, narrowed to days (pruned by partition)."""
    if snapshot_id == 0:
        return None
    frame = pl.scan_iceberg(
        _table_at(lake, stream, snapshot_id),
        snapshot_id=snapshot_id,
        storage_options=lake.storage_options(),
    )
    bounds = []
    if low:
        bounds.append(pl.col("day") >= date.fromisoformat(low))
    if high:
        bounds.append(pl.col("day") <= date.fromisoformat(high))
    if days is not None:
        bounds.append(pl.col("day").is_in([date.fromisoformat(day) for day in days]))
    columns = sealed_schema(stream)  # the table's columns are a sealed part's
    frame = frame.filter(*bounds) if bounds else frame
    return frame.select([pl.col(name).cast(kind) for name, kind in columns.items()])
