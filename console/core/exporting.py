"""CSV exports that open correctly in Excel (UTF-8 with BOM); values arrive already masked."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

EXPORT_ROW_LIMIT = 50_000


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a BOM so spreadsheet programs read Chinese without asking."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()
