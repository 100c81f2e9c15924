"""Personal data in log text, masked as screens show it — as Polars expressions.

One set of rules for everything that shows or stores log text: search results, exports,
timelines, and the sealed files themselves (``at_rest.py``), so what is stored in the clear
is never more than what a reader may see.
"""

from __future__ import annotations

import polars as pl

# Resident ID and mobile numbers not inside a longer run of digits. The regex engine has no
# look-around, so the neighbouring character is matched and put back; a second pass catches
# a number that shares its one separating character with the number before it.
_ID_NUMBER = (
    r"(^|[^0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])($|[^0-9])",
    "${1}${2}********${3}${4}",
)
_PHONE = (r"(^|[^0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})($|[^0-9])", "${1}${2}****${3}${4}")
# Columns that hold a person's name, and the same fields quoted inside a raw JSON line.
NAME_COLUMNS = frozenset({"operator", "applicant", "real_name", "name"})
_NAME_KEYS = "operator|applicant|real_name|name|owner|obligee|agent"
_NAMES_IN_JSON = (
    (rf'("(?:{_NAME_KEYS})"\s*:\s*")([^"\\])([^"\\]+)([^"\\])"', '${1}${2}*${4}"'),
    (rf'("(?:{_NAME_KEYS})"\s*:\s*")([^"\\])([^"\\])"', '${1}${2}*"'),
    (rf'("(?:{_NAME_KEYS})"\s*:\s*")([^"\\*])"', '${1}*"'),
)


def mask_expr(text: pl.Expr) -> pl.Expr:
    """Resident ID numbers, mobile numbers and quoted personal names in free text, masked."""
    for pattern, replacement in (_ID_NUMBER, _ID_NUMBER, _PHONE, _PHONE, *_NAMES_IN_JSON):
        text = text.str.replace_all(pattern, replacement)
    return text


def mask_name_expr(name: pl.Expr) -> pl.Expr:
    """A personal name column as screens show it (``masking.mask_name``): 欧阳小明 → 欧**明."""
    length = name.str.len_chars()
    first, last = name.str.slice(0, 1), name.str.slice(-1, 1)
    return (
        pl.when(length <= 1)
        .then(pl.lit("*"))
        .when(length == 2)
        .then(pl.concat_str([first, pl.lit("*")]))
        .otherwise(
            pl.concat_str([first, name.str.slice(1, length - 2).str.replace_all(".", "*"), last])
        )
    )


def mask_texts(texts: list[str]) -> list[str]:
    """``mask_expr`` over a few Python strings (a timeline's lines)."""
    return (
        pl.Series("text", texts, dtype=pl.String)
        .to_frame()
        .select(mask_expr(pl.col("text")))
        .to_series()
        .to_list()
    )
