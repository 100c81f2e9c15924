"""Promised time limits per business code: the committed defaults, reading and keeping them.

The province's limit of a business is part of its definition (``time_limit_workdays``);
publishing a province business keeps ``BusinessTimeLimit`` in step, and 办理时效 reads it.
"""

from __future__ import annotations

import csv

from sqlmodel import Session, select

from console.core.clock import utcnow
from console.dictionaries.seed import SEED_DIR
from console.workflows.models import BusinessTimeLimit


def load_time_limits(session: Session) -> int:
    """Add the committed default limits for codes that have none (edits are never overwritten)."""
    with (SEED_DIR / "time_limits.csv").open(encoding="utf-8") as handle:
        handle.readline()  # source line
        rows = list(csv.DictReader(handle))
    held = set(session.exec(select(BusinessTimeLimit.business_code)).all())
    added = 0
    for row in rows:
        if row["business_code"] not in held:
            session.add(
                BusinessTimeLimit(
                    business_code=row["business_code"],
                    workdays=int(row["workdays"]),
                    basis=row["basis"],
                )
            )
            added += 1
    return added


def promised_limits(session: Session) -> dict[str, int]:
    """business_code → promised working days, for every code with its own limit."""
    return {row.business_code: row.workdays for row in session.exec(select(BusinessTimeLimit))}


def keep_time_limit(
    session: Session, *, business_code: str, workdays: int, basis: str, account: str
) -> BusinessTimeLimit:
    """Set (or add) a code's promised limit, noting who changed it and on what basis."""
    row = session.get(BusinessTimeLimit, business_code) or BusinessTimeLimit(
        business_code=business_code, workdays=workdays
    )
    row.workdays, row.basis = workdays, basis[:200]
    row.updated_by = account
    row.updated_at = utcnow()
    session.add(row)
    return row
