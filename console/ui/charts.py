"""Plotly charts in Chinese, whatever language the browser is set to.

Every chart goes through ``chart``: Plotly's own zh-CN locale (month and day names, the
modebar's tooltips) and no Plotly logo. Axes of days take ``day_axis``: Chinese tick labels,
and one tick per day over a short range (Plotly's own choice there falls every 12 hours,
which printed each day twice).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

DAY_MS = 86_400_000
ONE_TICK_PER_POINT_UP_TO = 31  # points; beyond, Plotly's own spacing (a week, a month) is better
_DAY_TICKS = [
    {"dtickrange": [None, DAY_MS], "value": "%-m月%-d日 %H时"},
    {"dtickrange": [DAY_MS, "M1"], "value": "%-m月%-d日"},
    {"dtickrange": ["M1", "M12"], "value": "%Y年%-m月"},
    {"dtickrange": ["M12", None], "value": "%Y年"},
]


def day_axis(points: int, *, every_days: int = 1) -> dict[str, Any]:
    """Layout of an x axis of ``points`` ISO dates, ``every_days`` apart (7: weeks)."""
    axis: dict[str, Any] = {
        "type": "date",
        "tickformatstops": _DAY_TICKS,
        "hoverformat": "%Y年%-m月%-d日",
    }
    if points <= ONE_TICK_PER_POINT_UP_TO:
        axis["dtick"] = every_days * DAY_MS  # one tick per point
    return axis


def month_axis(points: int) -> dict[str, Any]:
    """Layout of an x axis of ``points`` months (yyyy-MM)."""
    axis: dict[str, Any] = {"type": "date", "tickformat": "%Y年%-m月", "hoverformat": "%Y年%-m月"}
    if points <= ONE_TICK_PER_POINT_UP_TO:
        axis["dtick"] = "M1"
    return axis


def chart(figure: rx.Var, **props: Any) -> rx.Component:
    """A Plotly chart at full width, in Chinese."""
    props.setdefault("width", "100%")
    props["config"] = {"displaylogo": False, **props.get("config", {})}
    return rx.plotly(data=figure, locale="zh-CN", **props)
