"""Toasts, address-bar updates and page loads sent by the server without ``eval`` in the browser.

Reflex delivers ``rx.toast`` and ``rx.call_script`` from the backend as JavaScript source
that the page ``eval``s, which a Content-Security-Policy without ``'unsafe-eval'`` forbids.
Here the server only changes state: it appends an effect (a toast or a URL to put in the
address bar) to ``ClientEffects.effects``, and a hook compiled into every page at build
time performs the effects it has not performed yet. The last performed id is kept in
``sessionStorage`` so that a reload of the tab does not show old toasts again.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import reflex as rx
from reflex.event import EventSpec
from reflex.vars.base import Var, VarData

# How many recent effects the state keeps (a page shows at most this many at once).
KEPT = 5
_LEVELS = frozenset({"success", "error", "warning", "info", "message"})
_id_lock = threading.Lock()
_last_id = 0


def _effect_id() -> int:
    """A strictly growing id: milliseconds since the epoch times 1000, then one more each time.

    Growing across back-end restarts, so a tab's stored "last shown" never hides a new effect,
    and below 2**53, so JavaScript compares them exactly.
    """
    global _last_id
    with _id_lock:
        _last_id = max(_last_id + 1, time.time_ns() // 1_000_000 * 1000)
        return _last_id


class ClientEffects(rx.State):
    """The recent effects of this browser tab, newest last."""

    effects: list[dict[str, Any]] = []

    def _push(self, effect: dict[str, Any]) -> None:
        # Growing within the tab's own list too: another worker process, or a clock stepped
        # back, can never hand out an id the tab would take for one already shown.
        newest = max((int(e.get("id", 0)) for e in self.effects), default=0)
        effect_id = max(_effect_id(), newest + 1)
        self.effects = [*self.effects[-(KEPT - 1) :], {"id": effect_id, **effect}]

    @rx.event
    def show_toast(self, level: str, message: str, duration: int, close_button: bool) -> None:
        """Queue a toast of ``level`` (success, error, warning, info)."""
        level = level if level in _LEVELS else "message"
        self._push(
            {
                "kind": "toast",
                "level": level,
                "message": str(message)[:500],
                "duration": int(duration),
                "close_button": bool(close_button),
            }
        )

    @rx.event
    def navigate(self, url: str) -> None:
        """Load ``url`` (a path on this site) as a new page, so the server sees a fresh request."""
        if url.startswith("/") and not url.startswith("//"):
            self._push({"kind": "navigate", "url": url})

    @rx.event
    def replace_url(self, url: str) -> None:
        """Show ``url`` (a path on this site) in the address bar without navigating."""
        if url.startswith("/") and not url.startswith("//"):
            self._push({"kind": "url", "url": url})


class toast:
    """Drop-in for ``rx.toast.<level>(...)`` from back-end events."""

    @staticmethod
    def _send(level: str, message: str, duration: int | None, close_button: bool) -> EventSpec:
        return ClientEffects.show_toast(level, message, duration or 4000, close_button)

    @staticmethod
    def success(message: str, *, duration: int | None = None, close_button: bool = False):
        """A success toast."""
        return toast._send("success", message, duration, close_button)

    @staticmethod
    def error(message: str, *, duration: int | None = None, close_button: bool = False):
        """An error toast."""
        return toast._send("error", message, duration, close_button)

    @staticmethod
    def warning(message: str, *, duration: int | None = None, close_button: bool = False):
        """A warning toast."""
        return toast._send("warning", message, duration, close_button)

    @staticmethod
    def info(message: str, *, duration: int | None = None, close_button: bool = False):
        """An information toast."""
        return toast._send("info", message, duration, close_button)


def navigate(url: str) -> EventSpec:
    """A full page load of ``url`` (an HTTP route that sets a cookie, say), not a client route."""
    return ClientEffects.navigate(url)


def replace_url(url: str) -> EventSpec:
    """Drop-in for ``rx.call_script("window.history.replaceState(null, '', url)")``."""
    return ClientEffects.replace_url(url)


_HOOK = """
useEffect(() => {
  const effects = %(effects)s;
  if (!Array.isArray(effects) || effects.length === 0) return;
  const key = "bdc_effects_shown";
  let shown = Number(window.sessionStorage.getItem(key) || "0");
  for (const effect of effects) {
    if (!(effect.id > shown)) continue;
    shown = effect.id;
    if (effect.kind === "url") {
      window.history.replaceState(window.history.state, "", effect.url);
      continue;
    }
    if (effect.kind === "navigate") {
      window.sessionStorage.setItem(key, String(shown));
      window.location.assign(effect.url);
      return;
    }
    const show = typeof toast[effect.level] === "function" ? toast[effect.level] : toast;
    show(effect.message, {duration: effect.duration, closeButton: effect.close_button});
  }
  window.sessionStorage.setItem(key, String(shown));
}, [%(effects)s]);
"""


class _EffectsRunner(rx.Fragment):
    """Performs the queued effects; renders nothing."""

    def add_hooks(self) -> list[str | Var]:
        """The effect hook, with the state var's context and the imports it uses."""
        effects = ClientEffects.effects
        var_data = VarData.merge(
            effects._get_all_var_data(),
            VarData(imports={"react": ["useEffect"], "sonner": ["toast"]}),
        )
        code = _HOOK % {"effects": str(effects)}
        return [Var(_js_expr=code, _var_data=var_data)]


def client_effects() -> rx.Component:
    """Put once on every page: it performs the toasts and URL updates the server queues."""
    return _EffectsRunner.create()
