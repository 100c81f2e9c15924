"""Every upload handler of the app is registered with the guard (or its uploads are refused)."""

from __future__ import annotations

import inspect

from reflex_base.utils.format import format_event_handler


def _states(root: type) -> list[type]:
    found = []
    for sub in root.__subclasses__():
        found += [sub, *_states(sub)]
    return found


def test_every_handler_that_takes_uploaded_files_has_a_kind_with_a_cap_and_a_permission() -> None:
    from reflex.state import State

    import console.console  # noqa: F401  (registers every page, state and upload kind)
    from console.ui.upload_guard import upload_kind

    takers = [
        handler
        for state in _states(State)
        for handler in state.event_handlers.values()
        if "UploadFile" in str(inspect.signature(handler.fn))
    ]
    assert len(takers) >= 3  # dictionary import, user sync, BPMN
    for handler in takers:
        kind = upload_kind(format_event_handler(handler))
        assert kind is not None, format_event_handler(handler)
        assert kind.max_bytes > 0 and kind.obj and kind.action
