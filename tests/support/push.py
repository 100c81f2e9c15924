"""Push NDJSON batches to a console's API over loopback, as a registration system does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def post_batch(
    port: int, key: str, body: bytes, *, stream: str = "case_event", timeout: float = 30
) -> dict | None:
    """POST one batch; the answer's body, or None when refused or the server is gone."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/logs/{stream}",
        method="POST",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read()) if response.status == 200 else None
    except (OSError, urllib.error.HTTPError, json.JSONDecodeError):
        return None
