"""The period every dashboard page starts from: this month so far, changed with two dates."""

from __future__ import annotations

from datetime import date

import reflex as rx

from console.core.clock import local_day


class PeriodMixin(rx.State, mixin=True):
    """Start and end day (inclusive) of a dashboard page; a change reloads the page."""

    start: str = ""
    end: str = ""
    _period_chosen: bool = False

    def _period(self) -> tuple[date, date]:
        """The chosen days; until a reader picks some, this month so far (Asia/Shanghai).

        The default is worked out again at every load, so a page left open past midnight or
        the end of a month moves on with the calendar.
        """
        if not self._period_chosen:
            today = local_day()
            self.start, self.end = today.replace(day=1).isoformat(), today.isoformat()
        return date.fromisoformat(self.start), date.fromisoformat(self.end)

    def _chosen_period(self) -> tuple[str, str]:
        """The days a reader picked, or empty strings for "this month so far"."""
        return (self.start, self.end) if self._period_chosen else ("", "")

    def _choose_period(self, start: str, end: str) -> None:
        """Pick both days (empty strings: back to this month so far)."""
        self._period_chosen = bool(start and end)
        if self._period_chosen:
            self.start, self.end = start, end

    @rx.event
    def set_period(self, name: str, value: str):
        """Change the start or end day (a cleared date input is ignored)."""
        if value:
            self._period()  # make sure both days are set before one of them changes
            setattr(self, "start" if name == "start" else "end", value)
            self._period_chosen = True
        return type(self).load  # type: ignore[attr-defined]
