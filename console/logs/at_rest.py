"""What a sealed file holds of personal data: ciphertext, keyed digests and masked text only.

Pushed lines may carry applicants' names, resident ID numbers and mobile numbers (the guide
asks for 权利人名称及证件号码 to be stored encrypted). A sealed part keeps:

- ``raw_enc``: the line as sent, SM4-GCM (``core.crypto``) — the only copy of it;
- ``raw`` and every other text column but identity and the exact-match filters (case number,
  trace id, interface, department): masked exactly as screens show them, so search, export
  and the dashboards (which need none of the personal data) read them as before;
- ``pii``: the keyed HMAC-SM3 digests of every resident ID and mobile number in the line, so
  an auditor who already knows a full number can find its lines without anything being
  decrypted.
"""

from __future__ import annotations

import json
import re

import polars as pl

from console.core.crypto import keyring
from console.logs.masks import NAME_COLUMNS, mask_expr, mask_name_expr

# Columns kept as sent: identity, the exact-match filters (no personal data by contract) and
# the ciphertext. Every other text column is stored masked, as every screen shows it.
KEPT_AS_SENT = frozenset(
    {"event_id", "sender", "tenant", "raw_enc", "case_no", "trace_id", "interface_code",
     "department"}
)  # fmt: skip
_NUMBERS = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9])")


def is_exact_number(text: str) -> bool:
    """Whether a search text is one whole resident ID or mobile number (searched by digest)."""
    return _NUMBERS.fullmatch(text.strip()) is not None


def number_digest(text: str) -> str:
    """The keyed digest a sealed line's ``pii`` holds for this number."""
    return keyring().digest(text.strip())


def _readable(line: str) -> str:
    r"""The line with JSON escapes (``\u674e``) written out, so masking sees the names."""
    if "\\u" not in line:
        return line
    try:
        return json.dumps(json.loads(line), ensure_ascii=False)
    except ValueError:  # checked at ingestion; kept as it is if it ever is not JSON
        return line


def at_rest(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as a sealed file stores it (see the module note)."""
    ring = keyring()
    lines = frame.get_column("raw").to_list()
    encrypted = [ring.encrypt(line) for line in lines]
    digests = [sorted({ring.digest(n) for n in _NUMBERS.findall(line)}) for line in lines]
    texts = [
        name for name, kind in frame.schema.items()
        if kind == pl.String and name not in KEPT_AS_SENT and name != "raw"
    ]  # fmt: skip
    return frame.with_columns(
        mask_expr(pl.Series("raw", [_readable(line) for line in lines], dtype=pl.String)),
        *[
            (mask_name_expr(pl.col(c)) if c in NAME_COLUMNS else mask_expr(pl.col(c))).alias(c)
            for c in texts
        ],
        pl.Series("raw_enc", encrypted, dtype=pl.String),
        pl.Series("pii", digests, dtype=pl.List(pl.String)),
    )
