"""A (value, label) option for the selects of any page's forms."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Choice:
    """One option of a select."""

    value: str
    label: str
