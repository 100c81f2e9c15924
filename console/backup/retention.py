"""Which sets a target keeps: N daily, M weekly, K monthly — never the only verified one.

A set is kept when it is the newest of one of the last ``daily`` days, ``weekly`` ISO weeks
or ``monthly`` months that have sets (Asia/Shanghai calendar); the newest set is always
kept, and so is the newest verified set when no kept set was verified. Objects no kept
manifest names (older sets' files, a failed run's uploads) are deleted afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from console.backup import sets
from console.backup.envelope import RepoKey
from console.backup.targets import Target
from console.core.clock import CHINA_TZ
from console.core.errors import UserError


def set_day(set_id: str) -> date:
    """The Shanghai calendar day a set was made on (from its id)."""
    moment = datetime.strptime(set_id[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ).date()


def _newest_per(ids: list[str], bucket: Callable[[date], object], count: int) -> set[str]:
    newest: dict[object, str] = {}
    for set_id in ids:  # oldest first, so the last one seen per bucket is the newest
        newest[bucket(set_day(set_id))] = set_id
    return set(sorted(newest.values())[-count:]) if count > 0 else set()


def choose(
    ids: Iterable[str], *, daily: int, weekly: int, monthly: int, verified: set[str]
) -> set[str]:
    """The sets to keep."""
    ordered = sorted(ids)
    if not ordered:
        return set()
    keep = {ordered[-1]}
    keep |= _newest_per(ordered, lambda d: d, daily)
    keep |= _newest_per(ordered, lambda d: d.isocalendar()[:2], weekly)
    keep |= _newest_per(ordered, lambda d: (d.year, d.month), monthly)
    checked = [s for s in ordered if s in verified]
    if checked and not keep & set(checked):
        keep.add(checked[-1])
    return keep


@dataclass(frozen=True)
class Pruned:
    """What pruning removed from a target."""

    sets: list[str]
    objects: int


def prune(target: Target, key: RepoKey, keep: set[str], scratch: Path) -> Pruned:
    """Remove the sets not kept, then every object no kept manifest names."""
    published = sets.set_ids(target)
    if not keep & set(published):
        raise UserError("保留策略会删除全部备份集，已停止清理")
    referenced: set[str] = set()
    for set_id in sorted(keep & set(published)):
        body = sets.read_manifest(target, key, set_id, scratch)
        referenced |= {entry.object for entry in sets.entries(body)}
    removed = [s for s in published if s not in keep]
    for set_id in removed:
        target.delete(sets.manifest_key(set_id))
    objects = 0
    for stored in list(target.keys("objects/")):
        if stored.rsplit("/", 1)[-1] not in referenced:
            target.delete(stored)
            objects += 1
    return Pruned(removed, objects)
