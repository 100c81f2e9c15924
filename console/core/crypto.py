"""Commercial cryptography (GB/T 39786) helpers built on OpenSSL via ``cryptography``."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes


def sm3_hex(data: bytes | str) -> str:
    """SM3 digest as 64 hex characters."""
    raw = data.encode() if isinstance(data, str) else data
    digest = hashes.Hash(hashes.SM3())
    digest.update(raw)
    return digest.finalize().hex()
