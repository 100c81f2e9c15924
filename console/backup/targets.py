"""Where backup sets are kept: a directory (a second disk, a mounted share) or S3 storage.

Both offer the same few operations on slash-separated keys. Writes are published
atomically (a temporary name renamed on disk; a single PUT on object storage), so a
reader never sees half an object. S3-compatible storage is reached with boto3, after its
endpoint passed the console's outbound allow-list (design.md §3).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from console.core.errors import UserError
from console.core.outbound import OutboundPolicy, configured_policy


class TargetError(UserError):
    """A target that cannot be reached, is full or refuses access."""


class Target(Protocol):
    """The operations a backup set needs from where it is kept."""

    label: str

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present."""
        ...

    def put_file(self, key: str, path: Path) -> None:
        """Publish the file's bytes under ``key`` in one step."""
        ...

    def get_file(self, key: str, path: Path) -> None:
        """Write the object's bytes to ``path``."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` (absent is fine)."""
        ...

    def put_new(self, key: str, path: Path) -> bool:
        """Publish only if ``key`` is absent (atomically); False when one was there already."""
        ...


@dataclass
class DirectoryTarget:
    """A folder on a second disk or a mounted share."""

    root: Path

    @property
    def label(self) -> str:
        """How the target is named in messages."""
        return str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise TargetError(f"非法的备份对象名：{key}")
        return path

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (temporary files excluded)."""
        base = self._path(prefix) if prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and ".partial-" not in path.name:
                yield path.relative_to(self.root).as_posix()

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present."""
        return self._path(key).is_file()

    def put_file(self, key: str, path: Path) -> None:
        """Copy, fsync, then rename into place."""
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            partial = final.with_name(f"{final.name}.partial-{uuid.uuid4().hex[:8]}")
            with path.open("rb") as source, partial.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
                sink.flush()
                os.fsync(sink.fileno())
            partial.replace(final)
        except OSError as error:
            raise TargetError(_os_reason(self.label, error)) from None

    def put_new(self, key: str, path: Path) -> bool:
        """Link into place: refused by the file system when the name exists."""
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            partial = final.with_name(f"{final.name}.partial-{uuid.uuid4().hex[:8]}")
            shutil.copyfile(path, partial)
            try:
                os.link(partial, final)
            except FileExistsError:
                return False
            finally:
                partial.unlink(missing_ok=True)
        except OSError as error:
            raise TargetError(_os_reason(self.label, error)) from None
        return True

    def get_file(self, key: str, path: Path) -> None:
        """Copy the object to ``path``."""
        try:
            shutil.copyfile(self._path(key), path)
        except FileNotFoundError:
            raise TargetError(f"备份目标 {self.label} 中缺少文件 {key}") from None
        except OSError as error:
            raise TargetError(_os_reason(self.label, error)) from None

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        self._path(key).unlink(missing_ok=True)


def _os_reason(label: str, error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return f"备份目标 {label} 空间已满"
    if error.errno in {errno.EACCES, errno.EPERM, errno.EROFS}:
        return f"备份目标 {label} 不可写（权限不足或只读）"
    return f"备份目标 {label} 读写失败：{error.strerror or error}"


@dataclass
class S3Target:
    """A bucket (and prefix) on S3-compatible object storage."""

    bucket: str
    prefix: str
    endpoint: str
    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: str | None = None

    def __post_init__(self) -> None:
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "s3",
            endpoint_url=self.endpoint or None,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    @property
    def label(self) -> str:
        """How the target is named in messages (never with credentials)."""
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def _key(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    def _fail(self, error: Exception) -> TargetError:
        from botocore.exceptions import ClientError

        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchBucket"}:
                return TargetError(f"备份目标 {self.label} 不存在（桶 {self.bucket} 未创建）")
            if code in {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
                return TargetError(f"备份目标 {self.label} 拒绝访问（访问密钥错误或无权限）")
            if code in {"EntityTooLarge", "QuotaExceeded", "InsufficientStorage"}:
                return TargetError(f"备份目标 {self.label} 空间已满或超出配额")
            return TargetError(f"备份目标 {self.label} 返回错误 {code}")
        return TargetError(f"备份目标 {self.label} 无法连接（{type(error).__name__}）")

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``, page by page."""
        strip = len(self._key(""))
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"][strip:]
        except Exception as error:  # botocore raises many kinds; each becomes one message
            raise self._fail(error) from None

    def exists(self, key: str) -> bool:
        """Whether ``key`` is present."""
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise self._fail(error) from None
        except Exception as error:
            raise self._fail(error) from None

    def put_file(self, key: str, path: Path) -> None:
        """Upload (multipart above boto3's threshold; visible only when complete)."""
        try:
            self._client.upload_file(str(path), self.bucket, self._key(key))
        except Exception as error:
            raise self._fail(error) from None

    def put_new(self, key: str, path: Path) -> bool:
        """A conditional PUT (``If-None-Match: *``): refused when the key exists."""
        from botocore.exceptions import ClientError

        try:
            self._client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=path.read_bytes(), IfNoneMatch="*"
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"PreconditionFailed", "412"}:
                return False
            raise self._fail(error) from None
        except Exception as error:
            raise self._fail(error) from None
        return True

    def get_file(self, key: str, path: Path) -> None:
        """Download to ``path``."""
        try:
            self._client.download_file(self.bucket, self._key(key), str(path))
        except Exception as error:
            from botocore.exceptions import ClientError

            if isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in {
                "404",
                "NoSuchKey",
            }:
                raise TargetError(f"备份目标 {self.label} 中缺少文件 {key}") from None
            raise self._fail(error) from None

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as error:
            raise self._fail(error) from None


def open_target(spec: str, *, policy: OutboundPolicy | None = None) -> Target:
    """A target from ``/path`` or ``s3://bucket/prefix?endpoint=http://host:port&region=…``.

    Credentials of S3 targets come from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``,
    never from the string itself. An endpoint must pass ``policy`` (the outbound allow-list).
    """
    if not spec.startswith("s3://"):
        return DirectoryTarget(Path(spec).expanduser().resolve())
    parts = urlsplit(spec)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    if not parts.netloc or len(parts.netloc) < 3:
        raise TargetError(f"备份目标格式错误：{spec}（应为 s3://桶名/前缀?endpoint=…）")
    endpoint = query.get("endpoint", "")
    if endpoint:
        check_endpoint_allowed(endpoint, policy or configured_policy())
    return S3Target(
        bucket=parts.netloc,
        prefix=parts.path.strip("/"),
        endpoint=endpoint,
        region=query.get("region", "us-east-1"),
        access_key=os.environ.get("AWS_ACCESS_KEY_ID"),
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
    )


def check_endpoint_allowed(endpoint: str, policy: OutboundPolicy) -> None:
    """Refuse an object-store endpoint whose addresses the outbound allow-list does not admit.

    boto3 connects by itself, so the check is made on the resolved addresses just before;
    the guarded client's connect-time check (core/outbound.py) covers plain HTTP calls.
    """
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host:
        raise TargetError(f"对象存储地址格式错误：{endpoint}（应为 http(s)://主机:端口）")
    try:
        found = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise TargetError(f"对象存储地址 {host} 无法解析") from None
    refused = [info[4][0] for info in found if not policy.address_allowed(host, info[4][0])]
    if refused or not found:
        raise TargetError(
            f"对象存储地址 {host}（{', '.join(sorted(set(refused)))}）不在对外访问白名单内："
            "请系统管理员在 系统设置 → 对外访问白名单 中加入"
        )
