"""Encryption of backup sets: a passphrase-wrapped repository key, SM4-GCM in framed chunks.

Each target holds ``repo.json``: a random 32-byte repository secret wrapped with SM4-GCM
under a key derived from the passphrase (PBKDF2-HMAC-SM3, random salt). The passphrase is
held by the security administrator and handed to the process at run time (a prompt, a file
outside the data directory, or ``BDC_BACKUP_PASSPHRASE``); it is never written to the data
directory, the configuration database or the target. From the secret come three keys:
one encrypts objects, one names them (a keyed digest, so a name reveals nothing about the
content) and one authenticates manifests.

An object is ``MAGIC`` then frames of ``len | nonce | ciphertext+tag``; each frame's
associated data binds the object's name, the frame's index and whether it is the last, so
frames cannot be reordered, dropped, truncated or moved to another object unnoticed.
Memory stays bounded by ``CHUNK`` however large a file is.
"""

from __future__ import annotations

import json
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from console.core.errors import UserError

MAGIC = b"BDCBK1\n"
CHUNK = 1 << 20
KDF_ITERATIONS = 600_000
MIN_PASSPHRASE = 12
_NONCE = 12
_TAG = 16
_REPO_AAD = b"bdc-backup-repository-v1"


class WrongPassphrase(UserError):
    """The passphrase does not open the target's repository key."""


class Corrupted(UserError):
    """An object or manifest fails authentication: changed, truncated or swapped."""


def _hmac(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def _derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SM3(), length=16, salt=salt, iterations=iterations)
    return kdf.derive(passphrase.encode("utf-8"))


def _gcm_seal(key: bytes, data: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(data) + encryptor.finalize()
    return nonce + body + encryptor.tag


def _gcm_open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < _NONCE + _TAG:
        raise InvalidTag
    nonce, body, tag = blob[:_NONCE], blob[_NONCE:-_TAG], blob[-_TAG:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


@dataclass(frozen=True)
class RepoKey:
    """The keys derived from one repository secret."""

    secret: bytes

    @property
    def _enc(self) -> bytes:
        return _hmac(self.secret, b"encrypt")[:16]

    def object_name(self, content_digest: str) -> str:
        """Name of the object holding content with this SM3: a keyed digest, reveals nothing."""
        return _hmac(self.secret, b"name:" + content_digest.encode()).hex()

    def mac(self, data: bytes) -> str:
        """Authentication code of a manifest's canonical bytes."""
        return _hmac(self.secret, b"manifest:" + data).hex()

    def encrypt_stream(self, source: BinaryIO, sink: BinaryIO, name: str) -> None:
        """Encrypt ``source`` into ``sink`` as frames bound to ``name``."""
        sink.write(MAGIC)
        index = 0
        chunk = source.read(CHUNK)
        while True:
            following = source.read(CHUNK) if chunk else b""
            last = not following
            frame = _gcm_seal(self._enc, chunk, _frame_aad(name, index, last))
            sink.write(struct.pack(">I", len(frame)) + frame)
            if last:
                return
            chunk, index = following, index + 1

    def decrypt_stream(self, source: BinaryIO, name: str) -> Iterator[bytes]:
        """Plaintext chunks of an object; raises ``Corrupted`` on any change."""
        if source.read(len(MAGIC)) != MAGIC:
            raise Corrupted("不是本系统的备份对象（文件头不符）")
        index = 0
        while True:
            header = source.read(4)
            if len(header) != 4:
                raise Corrupted("备份对象被截断")
            (size,) = struct.unpack(">I", header)
            if size > CHUNK + _NONCE + _TAG:
                raise Corrupted("备份对象分块长度异常")
            frame = source.read(size)
            last = _peek_end(source)
            try:
                yield _gcm_open(self._enc, frame, _frame_aad(name, index, last))
            except InvalidTag:
                raise Corrupted("备份对象校验失败（内容被改动、截断或与清单不符）") from None
            if last:
                return
            index += 1


def _peek_end(source: BinaryIO) -> bool:
    position = source.tell()
    at_end = not source.read(1)
    source.seek(position)
    return at_end


def _frame_aad(name: str, index: int, last: bool) -> bytes:
    return name.encode() + struct.pack(">QB", index, 1 if last else 0)


def new_repository(passphrase: str) -> tuple[dict, RepoKey]:
    """A fresh ``repo.json`` document and its key, for a target's first backup."""
    check_passphrase_strength(passphrase)
    secret = secrets.token_bytes(32)
    salt = secrets.token_bytes(16)
    wrapping = _derive(passphrase, salt, KDF_ITERATIONS)
    document = {
        "format": 1,
        "kdf": "pbkdf2-hmac-sm3",
        "iterations": KDF_ITERATIONS,
        "salt": salt.hex(),
        "cipher": "sm4-gcm",
        "wrapped_key": _gcm_seal(wrapping, secret, _REPO_AAD).hex(),
    }
    return document, RepoKey(secret)


def open_repository(document: dict, passphrase: str) -> RepoKey:
    """The key of an existing repository; ``WrongPassphrase`` when it does not open."""
    try:
        salt = bytes.fromhex(document["salt"])
        iterations = int(document["iterations"])
        wrapped = bytes.fromhex(document["wrapped_key"])
    except (KeyError, ValueError, TypeError):
        raise Corrupted("备份目标的 repo.json 已损坏") from None
    try:
        return RepoKey(_gcm_open(_derive(passphrase, salt, iterations), wrapped, _REPO_AAD))
    except InvalidTag:
        raise WrongPassphrase("备份口令错误：无法解开该备份目标的密钥") from None


def check_passphrase_strength(passphrase: str) -> None:
    """A new repository's passphrase: long enough to resist guessing offline."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError(f"备份口令至少 {MIN_PASSPHRASE} 个字符")


def canonical(document: dict) -> bytes:
    """Bytes a manifest's code is computed over: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def read_passphrase_file(path: Path) -> str:
    """First line of a passphrase file, refused when others may read it."""
    if not path.is_file():
        raise UserError(f"口令文件 {path} 不存在")
    if path.stat().st_mode & 0o077:
        raise UserError(f"口令文件 {path} 权限过宽：请 chmod 600（其他用户不得读取）")
    return path.read_text(encoding="utf-8").splitlines()[0].strip() if path.stat().st_size else ""
