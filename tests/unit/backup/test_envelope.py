"""Backup objects: any change, truncation, reordering or move of a frame is refused."""

from __future__ import annotations

import io
import struct

import pytest

from console.backup import envelope
from console.backup.envelope import Corrupted, WrongPassphrase
from console.core.errors import UserError


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> envelope.RepoKey:
    monkeypatch.setattr(envelope, "CHUNK", 64)  # many frames from a small text
    monkeypatch.setattr(envelope, "KDF_ITERATIONS", 1000)
    _document, repo_key = envelope.new_repository("a passphrase long enough")
    return repo_key


def _encrypt(key: envelope.RepoKey, data: bytes, name: str = "object-a") -> bytes:
    sink = io.BytesIO()
    key.encrypt_stream(io.BytesIO(data), sink, name)
    return sink.getvalue()


def _decrypt(key: envelope.RepoKey, blob: bytes, name: str = "object-a") -> bytes:
    return b"".join(key.decrypt_stream(io.BytesIO(blob), name))


def _frames(blob: bytes) -> list[bytes]:
    frames, at = [], len(envelope.MAGIC)
    while at < len(blob):
        (size,) = struct.unpack(">I", blob[at : at + 4])
        frames.append(blob[at : at + 4 + size])
        at += 4 + size
    return frames


DATA = ("不动产登记 " * 40).encode()


def test_what_is_encrypted_comes_back_and_reveals_nothing(key: envelope.RepoKey) -> None:
    blob = _encrypt(key, DATA)
    assert len(_frames(blob)) > 3
    assert "不动产".encode() not in blob
    assert _decrypt(key, blob) == DATA
    assert _decrypt(key, _encrypt(key, b"")) == b""


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap", "rename"])
def test_a_damaged_object_is_refused(key: envelope.RepoKey, damage: str) -> None:
    blob = _encrypt(key, DATA)
    frames = _frames(blob)
    name = "object-a"
    if damage == "flip":
        changed = bytearray(blob)
        changed[len(blob) // 2] ^= 0x80
        blob = bytes(changed)
    elif damage == "truncate":  # drop the last frame: the one before was not marked last
        blob = envelope.MAGIC + b"".join(frames[:-1])
    elif damage == "swap":
        blob = envelope.MAGIC + b"".join([frames[1], frames[0], *frames[2:]])
    else:  # another object's bytes under this name
        name = "object-b"
    with pytest.raises(Corrupted):
        _decrypt(key, blob, name)


def test_the_repository_key_opens_only_with_its_passphrase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(envelope, "KDF_ITERATIONS", 1000)
    document, key = envelope.new_repository("the right passphrase")
    assert envelope.open_repository(document, "the right passphrase").secret == key.secret
    with pytest.raises(WrongPassphrase):
        envelope.open_repository(document, "the wrong passphrase")
    assert key.secret.hex() not in str(document)
    with pytest.raises(UserError, match="至少 12 个字符"):
        envelope.new_repository("short")
