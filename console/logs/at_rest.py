"""What a sealed file holds of personal data: ciphertext, keyed digests and masked text only.

Pushed lines may carry applicants' names, resident ID numbers and mobile numbers (the guide
asks for 权利人名称及证件号码 to be stored encrypted). A sealed part keeps:

- beside it, ``part-NNNN.lines``: every line as sent, in row order, compressed and then
  SM4-GCM encrypted as one block (``core.crypto``) — the only copy of them. One block per part
  keeps the lines compressible: encrypted line by line they took 45 times the space;
- ``raw`` and every other text column but identity and the exact-match filters (case number,
  trace id, interface, department): masked exactly as screens show them, so search, export
  and the dashboards (which need none of the personal data) read them as before;
- ``pii``: the keyed HMAC-SM3 digests (space-separated) of every resident ID and mobile
  number in the line, so
  an auditor who already knows a full number can find its lines without anything being
  decrypted.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import polars as pl

from console.core.crypto import keyring
from console.logs.masks import NAME_COLUMNS, mask_expr, mask_name_expr

# Columns kept as sent: identity, the exact-match filters (no personal data by contract) and
# the ciphertext. Every other text column is stored masked, as every screen shows it.
KEPT_AS_SENT = frozenset(
    {"event_id", "sender", "tenant", "case_no", "trace_id", "interface_code", "department",
     # held by the contract to a code or a choice: nothing personal fits
     "business_code", "registration_type", "channel", "step", "level", "outcome"}
)  # fmt: skip
_NUMBERS = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9])")
# The same numbers with a neighbour each side (Polars has no look-around): which lines to read.
_CANDIDATES = r"(?:^|[^0-9])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?:$|[^0-9])"


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


def lines_file(part: Path) -> Path:
    """Where a part's lines as sent are kept."""
    return part.with_suffix(".lines")


def sealed_lines(lines: list[str]) -> bytes:
    """The lines as sent, as the ``.lines`` file holds them."""
    return keyring().seal_bytes(zlib.compress(json.dumps(lines, ensure_ascii=False).encode()))


def lines_as_sent(part: Path) -> list[str]:
    """A sealed part's lines exactly as they were pushed, in row order (needs the key)."""
    return json.loads(zlib.decompress(keyring().open_bytes(lines_file(part).read_bytes())))


def at_rest(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as a sealed file stores it (see the module note); the lines go apart."""
    ring = keyring()
    lines = frame.get_column("raw").to_list()
    # Polars picks the few lines holding a number; Python reads every number out of them
    # (adjacent numbers included, which a pattern without look-around would miss).
    holding = frame.get_column("raw").str.contains(_CANDIDATES).to_list()
    digests = [
        " ".join(sorted({ring.digest(n) for n in _NUMBERS.findall(line)})) if held else ""
        for line, held in zip(lines, holding, strict=True)
    ]
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
        pl.Series("pii", digests, dtype=pl.String),
    )
