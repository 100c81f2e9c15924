"""A Chinese date field (年-月-日, weeks from Monday) in place of the browser's own date input.

The browser's ``<input type="date">`` shows mm/dd/yyyy and English month names in a browser
set to English, whatever the page's language. This field is a text box that takes a day
typed as yyyy-MM-dd and a calendar (react-day-picker, MIT, with its zh-CN locale) that opens
beside it; it says what is wrong with a typed day when it is left. The React code lives
beside this module in ``date_field.jsx`` (linked into the app like the workflow designer).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import passthrough_event_spec

DAY_PICKER_VERSION = "9.14.0"

_SOURCE = rx.asset("date_field.jsx", shared=True)


class DateField(rx.Component):
    """The text box and its calendar; ``on_change`` gets "" or a valid yyyy-MM-dd."""

    library = _SOURCE.importable_path
    tag = "DateField"
    lib_dependencies: list[str] = [f"react-day-picker@{DAY_PICKER_VERSION}"]  # noqa: RUF012

    value: rx.Var[str]
    name: rx.Var[str]
    placeholder: rx.Var[str]
    size: rx.Var[str]
    width: rx.Var[str]
    testid: rx.Var[str]
    min: rx.Var[str]
    max: rx.Var[str]

    on_change: rx.EventHandler[passthrough_event_spec(str)]


def date_field(
    *,
    testid: str,
    value: rx.Var[str] | str | None = None,
    on_change: Any = None,
    name: str | None = None,
    placeholder: str = "年-月-日",
    size: str = "1",
    width: str = "150px",
    **props: Any,
) -> rx.Component:
    """A day field; controlled by ``value``/``on_change`` or submitted in a form by ``name``."""
    if value is not None:
        props["value"] = value
    if on_change is not None:
        props["on_change"] = on_change
    if name is not None:
        props["name"] = name
    return DateField.create(testid=testid, placeholder=placeholder, size=size, width=width, **props)
