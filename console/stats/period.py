"""The period every dashboard page starts from: this month so far, changed with two dates."""

from __future__ import annotations

from datetime import date

import reflex as rx

from console.core.clock import local_day


class PeriodMixin(rx.State, mixin=True):
    """Start and end day (inclusive) of a dashboard page; a change reloads the page."""

    start: str = ""
    end: str = ""

    def _period(self) -> tuple[date, date]:
        """The chosen days, defaulting to this month so far (Asia/Shanghai)."""
        today = local_day()
        if not self.start or not self.end:
            self.start, self.end = today.replace(day=1).isoformat(), today.isoformat()
        return date.fromisoformat(self.start), date.fromisoformat(self.end)

    @rx.event
    def set_period(self, name: str, value: str):
        """Change the start or end day (a cleared date input is ignored)."""
        if value:
            setattr(self, "start" if name == "start" else "end", value)
        return type(self).load  # type: ignore[attr-defined]
