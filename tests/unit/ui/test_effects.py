"""Server-sent effects: ids a browser can compare exactly, and no script in what is sent."""

from __future__ import annotations

from console.ui import effects_state
from console.ui.effects_state import ClientEffects, navigate, replace_url, toast


def test_effect_ids_grow_and_stay_exact_in_javascript() -> None:
    ids = [effects_state._effect_id() for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert max(ids) < 2**53


def test_a_toast_is_an_event_of_the_effects_state_carrying_only_data() -> None:
    spec = toast.error("保存失败", duration=8000)
    assert spec.handler.fn.__name__ == "show_toast"
    assert spec.handler.state is ClientEffects or spec.handler.state_full_name.endswith(
        "client_effects"
    )
    sent = {str(name): value._var_value for name, value in spec.args}
    assert sent == {
        "level": "error",
        "message": "保存失败",
        "duration": 8000,
        "close_button": False,
    }


def test_only_paths_on_this_site_are_navigated_to() -> None:
    pushed: list[dict] = []

    class Recorder:
        def _push(self, effect: dict) -> None:
            pushed.append(effect)

    state = Recorder()
    for url in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        ClientEffects.navigate.fn(state, url)
        ClientEffects.replace_url.fn(state, url)
    assert pushed == []
    ClientEffects.navigate.fn(state, "/api/v1/session/end")
    assert pushed == [{"kind": "navigate", "url": "/api/v1/session/end"}]
    assert navigate("/x").handler.fn.__name__ == "navigate"
    assert replace_url("/x").handler.fn.__name__ == "replace_url"
