"""The sign-in flow's pages and the one rule for where a sign-in may lead afterwards."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

LOGIN_ROUTE = "/login"
CHANGE_PASSWORD_ROUTE = "/change-password"
SECOND_FACTOR_ROUTE = "/second-factor"
ACCOUNT_ROUTE = "/account"


def _fully_unquoted(text: str) -> str:
    for _ in range(4):  # %252F → %2F → /: decode until nothing changes
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def safe_next(target: str | None) -> str:
    r"""Only a path on this site may follow a sign-in; anything else lands on the overview.

    Checked after decoding every layer of %-encoding: control characters (browsers drop tabs
    and newlines, so ``/\t/host`` becomes ``//host``), backslashes (read as ``/``), ``//``,
    schemes and hosts are all refused, and so are API and Reflex routes (only pages).
    """
    text = _fully_unquoted(target or "")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text) or "\\" in text:
        return "/"
    if not text.startswith("/") or text.startswith("//"):
        return "/"
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return "/"
    if parts.path.rstrip("/") in {LOGIN_ROUTE, CHANGE_PASSWORD_ROUTE, SECOND_FACTOR_ROUTE}:
        return "/"
    if parts.path.startswith(("/api/", "/_")):
        return "/"  # a page, never an API route or Reflex's own (/_event, /_upload)
    return text


def login_url(next_path: str, *, reason: str = "") -> str:
    """Login page URL that returns to ``next_path`` afterwards."""
    url = f"{LOGIN_ROUTE}?next={quote(safe_next(next_path), safe='/')}"
    return f"{url}&reason={quote(reason)}" if reason else url
