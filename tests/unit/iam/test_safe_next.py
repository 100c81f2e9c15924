"""Where a sign-in may lead: a path on this site, after every layer of encoding is undone."""

from __future__ import annotations

import pytest

from console.iam.paths import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\t/evil.example",  # browsers drop the tab: //evil.example
        "/\n/evil.example",
        "/%09/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "%2F%2Fevil.example",
        "%252F%252Fevil.example",  # encoded twice
        "/%5Cevil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
        None,
        "/login?next=/audit",
        "/second-factor",
        "/change-password/",
    ],
)
def test_anything_but_a_local_path_leads_to_the_overview(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/audit", "/audit?case_no=330000-2026-1", "/statistics#x"])
def test_local_paths_are_kept(target: str) -> None:
    assert safe_next(target) == target
