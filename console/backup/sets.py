"""Backup sets on a target: content-addressed encrypted objects and a manifest published last.

Layout of a target::

    repo.json                      the repository key, wrapped under the passphrase
    objects/<2 hex>/<64 hex>       one encrypted file each, named by a keyed digest of its SM3
    sets/<set id>/manifest.json    what a set holds; written last, so a set without one
                                   never existed (its objects are removed by pruning)

Objects are shared between sets: a sealed lake file already in the target is not read or
copied again (the newest manifest says what it holds), which makes the daily run incremental.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from console.backup.envelope import (
    Corrupted,
    RepoKey,
    canonical,
    new_repository,
    open_repository,
)
from console.backup.targets import Target, TargetError
from console.core.errors import UserError

REPO = "repo.json"
SETS = "sets/"
MANIFEST = "manifest.json"
FORMAT = 1
_READ = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """One file of a set."""

    path: str
    kind: str
    size: int
    sm3: str
    object: str


def object_key(name: str, prefix: str = "objects/") -> str:
    """Where an object lives in the target (sets under ``objects/``, the live copy apart)."""
    return f"{prefix}{name[:2]}/{name}"


def manifest_key(set_id: str) -> str:
    """Where a set's manifest lives in the target."""
    return f"{SETS}{set_id}/{MANIFEST}"


def file_sm3(path: Path) -> tuple[str, int]:
    """SM3 and size of a file, read in chunks."""
    digest = hashes.Hash(hashes.SM3())
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_READ):
            digest.update(chunk)
            size += len(chunk)
    return digest.finalize().hex(), size


def _read_json(target: Target, key: str, scratch: Path) -> dict:
    local = scratch / "json.tmp"
    target.get_file(key, local)
    try:
        return json.loads(local.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Corrupted(f"{target.label} 中的 {key} 已损坏（不是有效的 JSON）") from None
    finally:
        local.unlink(missing_ok=True)


def _put_json(target: Target, key: str, document: dict, scratch: Path) -> None:
    local = scratch / "json-out.tmp"
    local.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    try:
        target.put_file(key, local)
    finally:
        local.unlink(missing_ok=True)


def open_or_create(target: Target, passphrase: str, scratch: Path) -> RepoKey:
    """The target's repository key; a target's first backup creates it."""
    if target.exists(REPO):
        return open_repository(_read_json(target, REPO, scratch), passphrase)
    document, key = new_repository(passphrase)
    local = scratch / "repo-new.json"
    local.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    try:
        if target.put_new(REPO, local):
            return key
    finally:
        local.unlink(missing_ok=True)
    # Another run created it meanwhile: use the one that is there.
    return open_repository(_read_json(target, REPO, scratch), passphrase)


def open_existing(target: Target, passphrase: str, scratch: Path) -> RepoKey:
    """The repository key of a target that must already hold sets."""
    if not target.exists(REPO):
        raise TargetError(f"{target.label} 中没有备份（缺少 {REPO}）")
    return open_repository(_read_json(target, REPO, scratch), passphrase)


def set_ids(target: Target) -> list[str]:
    """Published sets, oldest first (ids sort by time)."""
    found = {
        key[len(SETS) :].split("/", 1)[0]
        for key in target.keys(SETS)
        if key.endswith(f"/{MANIFEST}")
    }
    return sorted(found)


def read_manifest(target: Target, key: RepoKey, set_id: str, scratch: Path) -> dict:
    """A set's manifest body, its code checked (a changed manifest is refused)."""
    if set_id not in set_ids(target):
        raise TargetError(f"{target.label} 中没有备份集 {set_id}")
    document = _read_json(target, manifest_key(set_id), scratch)
    body, mac = document.get("body"), document.get("mac")
    if not isinstance(body, dict) or not isinstance(mac, str) or key.mac(canonical(body)) != mac:
        raise Corrupted(f"备份集 {set_id} 的清单校验失败（被改动，或不属于该备份目标）")
    if body.get("set_id") != set_id:
        raise Corrupted(f"备份集 {set_id} 的清单属于另一个备份集（{body.get('set_id')}）")
    if body.get("format") != FORMAT:
        raise UserError(f"备份集 {set_id} 的格式版本 {body.get('format')} 无法识别")
    return body


def publish_manifest(target: Target, key: RepoKey, set_id: str, body: dict, scratch: Path) -> None:
    """Write the manifest — the step that makes the set exist."""
    _put_json(
        target, manifest_key(set_id), {"body": body, "mac": key.mac(canonical(body))}, scratch
    )


def upload(
    target: Target, key: RepoKey, source: Path, sm3: str, scratch: Path, *, prefix: str = "objects/"
) -> str:
    """Encrypt and publish one file unless its object is already there; returns its name.

    ``sm3`` identifies the content (the live copy adds the path to it). The stored object
    is read back and its SM3 compared with what was written.
    """
    name = key.object_name(sm3)
    stored = object_key(name, prefix)
    if target.exists(stored):
        return name
    encrypted = scratch / f"{name}.enc"
    try:
        with source.open("rb") as plain, encrypted.open("wb") as sink:
            key.encrypt_stream(plain, sink, name)
        written, _ = file_sm3(encrypted)
        target.put_file(stored, encrypted)
        target.get_file(stored, encrypted)
        read_back, _ = file_sm3(encrypted)
        if read_back != written:
            target.delete(stored)
            raise TargetError(f"{target.label} 中的 {stored} 写入后校验不一致，已删除")
    finally:
        encrypted.unlink(missing_ok=True)
    return name


def download(
    target: Target,
    key: RepoKey,
    entry: FileEntry,
    destination: Path,
    scratch: Path,
    *,
    on_bytes: Callable[[int], None] | None = None,
    prefix: str = "objects/",
) -> None:
    """Fetch, decrypt and check one file; ``Corrupted`` names the file when anything differs."""
    encrypted = scratch / f"{entry.object}.enc"
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashes.Hash(hashes.SM3())
    size = 0
    try:
        target.get_file(object_key(entry.object, prefix), encrypted)
        with encrypted.open("rb") as source, destination.open("wb") as sink:
            for chunk in key.decrypt_stream(source, entry.object):
                digest.update(chunk)
                size += len(chunk)
                sink.write(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
    except Corrupted as error:
        raise Corrupted(f"文件 {entry.path} 已损坏：{error}") from None
    except TargetError as error:
        raise TargetError(f"文件 {entry.path} 无法取回：{error}") from None
    finally:
        encrypted.unlink(missing_ok=True)
    if digest.finalize().hex() != entry.sm3 or size != entry.size:
        raise Corrupted(f"文件 {entry.path} 已损坏：SM3 或大小与清单不符")


def entries(body: dict) -> list[FileEntry]:
    """The files of a manifest."""
    try:
        return [FileEntry(**item) for item in body["files"]]
    except (KeyError, TypeError):
        raise Corrupted("备份集清单缺少文件列表") from None


def as_dicts(files: list[FileEntry]) -> list[dict]:
    """Files for a manifest body."""
    return [asdict(item) for item in files]


def scratch_dir(parent: Path | None = None) -> tempfile.TemporaryDirectory:
    """A private temporary folder for encrypted objects in transit."""
    if parent is not None:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix="bdc-backup-", dir=parent)
