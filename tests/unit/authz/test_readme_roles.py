"""The README's built-in roles table says exactly what ``policies/seed_policy.csv`` grants."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from console.authz.catalogue import ACTION_LABELS, CATALOGUE
from console.authz.service import read_seed_policy

ROOT = Path(__file__).resolve().parents[3]
ROW = re.compile(r"^\| `(?P<code>[a-z_]+)` \| (?P<name>[^|]+) \| [^|]+ \| (?P<grants>[^|]+) \|$")
GRANT = re.compile(r"(?P<page>[^；（]+)（(?P<actions>[^）]+)）")


def _readme_grants() -> dict[str, set[tuple[str, str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Built-in roles", 1)[1].split("\n## ", 1)[0]
    grants: dict[str, set[tuple[str, str]]] = {}
    for line in section.splitlines():
        if found := ROW.match(line.strip()):
            grants[found["code"]] = {
                (page["page"], action)
                for page in GRANT.finditer(found["grants"])
                for action in page["actions"].split("、")
            }
    return grants


def _seed_grants() -> dict[str, set[tuple[str, str]]]:
    labels = {resource.code: resource.label for resource in CATALOGUE}
    return {
        role: {(labels[obj], ACTION_LABELS[act]) for obj, act in pairs}
        for role, pairs in read_seed_policy().items()
    }


def test_every_built_in_role_is_listed_with_exactly_its_seed_permissions() -> None:
    with (ROOT / "policies" / "roles.csv").open(encoding="utf-8") as handle:
        roles = {row["code"] for row in csv.DictReader(handle)}
    readme, seed = _readme_grants(), _seed_grants()
    assert set(readme) == roles
    for role in sorted(roles):
        assert readme[role] == seed.get(role, set()), role
