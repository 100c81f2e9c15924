"""The list pages' shared handlers: a dialog opens by name, a filter applies from page 1."""

from __future__ import annotations

import reflex as rx
from reflex.state import State

import console.iam.state  # noqa: F401  (IAM provides the session the list states need)
from console.interfaces.channel_state import ChannelsState


def _state() -> ChannelsState:
    root = State(_reflex_internal_init=True)
    return root.get_substate(ChannelsState.get_full_name().split(".")[1:])


def test_set_open_opens_and_closes_a_dialog_by_its_name():
    state = _state()
    ChannelsState.set_open.fn(state, "history", True)
    assert state.history_open
    ChannelsState.set_open.fn(state, "history", False)
    assert not state.history_open


def test_set_open_touches_nothing_but_a_dialog_flag():
    state = _state()
    for name in ("rows", "__class__", "no such", "create_error"):
        ChannelsState.set_open.fn(state, name, True)
    assert state.rows == [] and state.create_error == ""


def test_set_filter_applies_from_page_one_and_reloads():
    state = _state()
    state.page = 3
    follow_up = ChannelsState.set_filter.fn(state, "state_filter", "closed")
    assert (state.state_filter, state.page) == ("closed", 1)
    assert state._chosen("state_filter") == "closed"
    assert isinstance(follow_up, rx.event.EventHandler)
    ChannelsState.set_filter.fn(state, "state_filter", "*")
    assert state._chosen("state_filter") is None


def test_set_filter_sets_only_filters():
    state = _state()
    ChannelsState.set_filter.fn(state, "keyword", "x")
    ChannelsState.set_filter.fn(state, "can_write_filter", "x")
    assert state.keyword == "" and not state.can_write
