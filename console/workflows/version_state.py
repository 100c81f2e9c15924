"""The 流程配置 versions' part of the editor state: save, publish, history, compare.

``EditorState`` mixes this in; it provides ``kind``, ``key``, ``draft_number``, ``dirty``,
``error``, ``_token``, ``_body``, ``_run`` (a write for the open definition, then reopen it)
and ``_reopen``, which the handlers here use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import reflex as rx
from sqlmodel import Session

from console.core.actor import Actor
from console.ui.actions import call
from console.ui.effects_state import toast
from console.workflows import draft_service, inheritance_service, publish_service, service
from console.workflows.models import Kind


@dataclasses.dataclass(frozen=True)
class VersionView:
    """One version in the history."""

    number: int
    label: str
    status: str
    status_label: str
    based_on: str
    note: str
    created: str
    published: str


@dataclasses.dataclass(frozen=True)
class DiffView:
    """One changed item of a comparison."""

    section: str
    item: str
    change: str
    left: str
    right: str


@dataclasses.dataclass(frozen=True)
class UsageView:
    """Which version one county works with."""

    tenant: str
    origin: str
    version: str


class VersionsMixin(rx.State, mixin=True):
    """The open definition's versions: saving and publishing, history, comparison."""

    versions: list[VersionView] = []
    diff_left: str = ""
    diff_right: str = ""
    diff_rows: list[DiffView] = []
    usage: list[UsageView] = []
    publish_open: bool = False
    confirm_open: bool = False
    confirm_action: str = ""

    if TYPE_CHECKING:  # provided by EditorState
        kind: str
        key: str
        draft_number: int
        dirty: bool
        error: str

        async def _token(self) -> str: ...

        def _body(self) -> dict[str, Any]: ...

        def _run(
            self, operation: Callable[[Session, Actor], object], success: str
        ) -> AsyncIterator[rx.event.EventSpec]: ...

        def _reopen(self, kind: str, key: str) -> rx.event.EventSpec: ...

    def _show_versions(self, view: service.DefinitionView, usage: list[service.UsageRow]) -> None:
        self.versions = [_version_view(v) for v in view.versions]
        numbers = [v.number for v in view.versions]
        # Newest against the one before it: what the latest change did.
        self.diff_right = f"v{numbers[0]}" if numbers else ""
        self.diff_left = f"v{numbers[1] if len(numbers) > 1 else numbers[0]}" if numbers else ""
        self.diff_rows = []
        self.usage = _usage_views(usage)

    @rx.var
    def version_options(self) -> list[str]:
        """Versions to compare, newest first (v3, v2 …)."""
        return [v.label for v in self.versions]

    # ---- saving and publishing -------------------------------------------------------------

    @rx.event(background=True)
    async def save(self):
        """Store the draft (problems are allowed in a draft)."""
        async with self:
            kind, key, body = Kind(self.kind), self.key, self._body()

        def operation(session, actor):
            return draft_service.save_draft(
                session=session, actor=actor, kind=kind, key=key, body=body
            )

        async for event in self._run(operation, "草稿已保存"):
            yield event

    @rx.event
    def set_publish_open(self, value: bool) -> None:
        """Open or close the publish confirmation."""
        self.publish_open = value

    @rx.event(background=True)
    async def publish(self, form: dict[str, str]):
        """Save what is on screen, then publish it: from now on it is served."""
        async with self:
            kind, key, body, dirty = Kind(self.kind), self.key, self._body(), self.dirty
            seen = None if dirty else self.draft_number  # publish only the draft on screen
            self.publish_open = False
        note = form.get("note", "")

        def operation(session, actor):
            if dirty:
                draft_service.save_draft(
                    session=session, actor=actor, kind=kind, key=key, body=body
                )
            return publish_service.publish(
                session=session, actor=actor, kind=kind, key=key, note=note, expected_draft=seen
            )

        async for event in self._run(operation, "已发布，新版本即刻生效"):
            yield event

    @rx.event
    def ask(self, action: str) -> None:
        """Confirm a destructive step (放弃草稿, 恢复继承) before doing it."""
        self.confirm_action, self.confirm_open = action, True

    @rx.event
    def set_confirm_open(self, value: bool) -> None:
        """Close the confirmation."""
        self.confirm_open = value

    @rx.var
    def confirm_text(self) -> str:
        """What the confirmation says."""
        if self.confirm_action == "revert":
            return "恢复继承后，本区县立即改为执行省级模板；本地覆盖的各版本保留为历史，不再生效。"
        return f"放弃草稿 v{self.draft_number}：未发布的修改将丢失，已发布的版本不受影响。"

    @rx.event(background=True)
    async def confirm(self):
        """Do the confirmed step."""
        async with self:
            action, kind, key = self.confirm_action, Kind(self.kind), self.key
            self.confirm_open = False
        if action == "revert":
            operation, text = (
                lambda s, a: inheritance_service.revert(session=s, actor=a, kind=kind, key=key),
                "已恢复继承省级模板",
            )
        else:
            operation, text = (
                lambda s, a: draft_service.discard_draft(session=s, actor=a, kind=kind, key=key),
                "草稿已放弃",
            )
        async for event in self._run(operation, text):
            yield event

    @rx.event(background=True)
    async def override(self):
        """Copy the province template into this county as a draft."""
        async with self:
            kind, key = Kind(self.kind), self.key
        async for event in self._run(
            lambda s, a: inheritance_service.override(session=s, actor=a, kind=kind, key=key),
            "已建立本地覆盖（草稿）；发布后本区县改为执行覆盖版本",
        ):
            yield event

    @rx.event(background=True)
    async def new_draft(self, number: int):
        """Start a draft from a published version."""
        async with self:
            kind, key = Kind(self.kind), self.key
        async for event in self._run(
            lambda s, a: draft_service.new_draft(
                session=s, actor=a, kind=kind, key=key, from_number=number
            ),
            f"已从 v{number} 新建草稿",
        ):
            yield event

    # ---- comparing -------------------------------------------------------------------------

    @rx.event
    def set_diff_side(self, side: str, value: str) -> None:
        """Pick a version to compare."""
        if side == "left":
            self.diff_left = value
        else:
            self.diff_right = value

    @rx.event(background=True)
    async def compare(self):
        """Side-by-side differences of the two chosen versions, and who uses which."""
        async with self:
            token, kind, key = await self._token(), Kind(self.kind), self.key
            left, right = _number(self.diff_left), _number(self.diff_right)

        def fetch(session, actor):
            rows = service.diff(
                session=session, actor=actor, kind=kind, key=key, left=left, right=right
            )
            return rows, service.usage(session=session, actor=actor, kind=kind, key=key)

        outcome = await call(token, fetch)
        async with self:
            if not outcome.ok or outcome.value is None:
                self.error = outcome.error_text
                return
            rows, usage = outcome.value
            self.diff_rows = [DiffView(r.section, r.item, r.change, r.left, r.right) for r in rows]
            self.usage = _usage_views(usage)
            if not rows:
                yield toast.info("两个版本内容相同")


def _version_view(v: service.VersionRow) -> VersionView:
    return VersionView(
        v.number,
        f"v{v.number}",
        v.status,
        v.status_label,
        v.based_on,
        v.note,
        f"{v.created} {v.created_by}",
        f"{v.published} {v.published_by}".strip(),
    )


def _usage_views(rows: list[service.UsageRow]) -> list[UsageView]:
    return [
        UsageView(
            f"{u.tenant_name}（{u.tenant_code}）",
            u.origin_label,
            f"v{u.version}" if u.version else "—",
        )
        for u in rows
    ]


def _number(label: str) -> int:
    """3 from "v3" (0 when nothing is chosen)."""
    digits = label.removeprefix("v")
    return int(digits) if digits.isdigit() else 0
