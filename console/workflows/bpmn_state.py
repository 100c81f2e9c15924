"""The 流程配置 BPMN part of the editor state: export a version, preview a file, import a process.

An upload is first read for its processes (a file may hold several, e.g. the pools of a
collaboration): the administrator sees each with its lanes and what the designer cannot
show, picks one, and only then does the draft change. ``EditorState`` mixes this in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

import reflex as rx

from console.dictionaries import lookup
from console.ui.actions import call
from console.ui.effects_state import toast
from console.workflows import draft_service
from console.workflows.bpmn_reading import ProcessPreview, Unrepresented
from console.workflows.models import Kind

BPMN_MAX_BYTES = 2_000_000
# A file may list hundreds of kept parts; the page shows this many and says how many more.
SHOWN_PARTS = 200


@dataclasses.dataclass(frozen=True)
class PartView:
    """Something the designer cannot show: which element, what kind, what happens to it."""

    element: str
    kind: str
    note: str


@dataclasses.dataclass(frozen=True)
class ProcessView:
    """One process of an uploaded file, as the import would take it (its parts apart)."""

    id: str
    label: str
    summary: str
    lanes: list[str]
    problem: str


class BpmnMixin(rx.State, mixin=True):
    """BPMN out (a version) and in (a process of a file, after a preview)."""

    bpmn_processes: list[ProcessView] = []
    bpmn_choice: str = ""
    # The chosen process's parts only: a file may list thousands across its processes.
    bpmn_parts: list[PartView] = []
    bpmn_parts_more: int = 0
    _bpmn_parts_of: dict[str, list[PartView]] = {}
    bpmn_file_name: str = ""
    bpmn_kept: list[PartView] = []
    bpmn_kept_more: int = 0
    bpmn_busy: bool = False
    _bpmn_text: str = ""

    if TYPE_CHECKING:  # provided by EditorState
        key: str
        error: str

        async def _token(self) -> str: ...

        def _reopen(self, kind: str, key: str) -> rx.event.EventSpec: ...

    @rx.var
    def bpmn_chosen(self) -> ProcessView | None:
        """The process the import would take."""
        return next((p for p in self.bpmn_processes if p.id == self.bpmn_choice), None)

    @rx.var
    def bpmn_options(self) -> list[list[str]]:
        """[id, label] of each process, for the chooser."""
        return [[p.id, p.label] for p in self.bpmn_processes]

    @rx.event(background=True)
    async def export_bpmn(self, number: int):
        """Download one version as BPMN 2.0 XML."""
        async with self:
            token, key = await self._token(), self.key
        outcome = await call(
            token,
            lambda s, a: draft_service.export_bpmn(session=s, actor=a, key=key, number=number),
        )
        if not outcome.ok or outcome.value is None:
            yield toast.error(outcome.error_text)
            return
        yield rx.download(data=outcome.value.encode("utf-8"), filename=f"{key}-v{number}.bpmn")

    @rx.event
    async def upload_bpmn(self, files: list[rx.UploadFile]):
        """Receive the BPMN file, then read its processes in the background."""
        if not files:
            self.error = "BPMN 文件：请先选择文件"
            return None
        content = await files[0].read()
        if len(content) > BPMN_MAX_BYTES:
            self.error = "BPMN 文件：超过 2 MB"
            return None
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.error = "BPMN 文件：不是 UTF-8 编码（请在建模工具中以 UTF-8 导出）"
            return None
        self._reset_bpmn()
        self._bpmn_text, self.bpmn_file_name = text, files[0].name or "BPMN 文件"
        return type(self).preview_bpmn

    @rx.event(background=True)
    async def preview_bpmn(self):
        """List the file's processes; nothing changes until one is imported."""
        async with self:
            token, key, text = await self._token(), self.key, self._bpmn_text
            self.bpmn_busy = True
        try:
            outcome = await call(
                token,
                lambda s, a: draft_service.preview_bpmn(session=s, actor=a, key=key, text=text),
            )
        finally:  # whatever happens, the button does not stay spinning
            async with self:
                self.bpmn_busy = False
        async with self:
            if not outcome.ok or outcome.value is None:
                self.error, self._bpmn_text = outcome.error_text, ""
                yield toast.error(outcome.error_text)
                return
            self.bpmn_processes = [_process_view(p) for p in outcome.value]
            self._bpmn_parts_of = {p.id: _views(p.unrepresented) for p in outcome.value}
            importable = [p.id for p in outcome.value if not p.problem]
            self._choose(importable[0] if importable else "")

    def _choose(self, process_id: str) -> None:
        self.bpmn_choice = process_id
        parts = self._bpmn_parts_of.get(process_id, [])
        self.bpmn_parts = parts[:SHOWN_PARTS]
        self.bpmn_parts_more = max(0, len(parts) - SHOWN_PARTS)

    def _reset_bpmn(self) -> None:
        """Forget a file read and what an import kept (another definition was opened)."""
        self._bpmn_text, self.bpmn_file_name, self._bpmn_parts_of = "", "", {}
        self.bpmn_processes, self.bpmn_kept, self.bpmn_kept_more = [], [], 0
        self._choose("")

    @rx.event
    def choose_bpmn_process(self, process_id: str):
        """Pick the process to import."""
        self._choose(process_id)

    @rx.event
    def cancel_bpmn(self):
        """Forget the uploaded file."""
        self._reset_bpmn()

    @rx.event(background=True)
    async def import_bpmn(self):
        """Replace the draft by the chosen process of the uploaded file."""
        async with self:
            token, key, text = await self._token(), self.key, self._bpmn_text
            process_id, self.bpmn_busy = self.bpmn_choice, True
        try:
            outcome = await call(
                token,
                lambda s, a: draft_service.import_bpmn(
                    session=s, actor=a, key=key, text=text, process_id=process_id
                ),
            )
        finally:  # whatever happens, the button does not stay spinning
            async with self:
                self.bpmn_busy = False
        if not outcome.ok or outcome.value is None:
            async with self:
                self.error = outcome.error_text
            yield toast.error(outcome.error_text)
            return
        _problems, kept = outcome.value
        yield self._reopen(Kind.WORKFLOW.value, key)
        async with self:
            self._bpmn_text, self.bpmn_processes, self._bpmn_parts_of = "", [], {}
            self._choose("")
            views = _views(kept)
            self.bpmn_kept = views[:SHOWN_PARTS]
            self.bpmn_kept_more = max(0, len(views) - SHOWN_PARTS)
        suffix = f"，{len(kept)} 项设计器无法显示的内容已保留，导出时写回" if kept else ""
        yield toast.success("已导入到草稿" + suffix)


def _views(parts: Iterable[Unrepresented]) -> list[PartView]:
    return [PartView(p.element or "（流程）", p.kind, p.note) for p in parts]


def _process_view(preview: ProcessPreview) -> ProcessView:
    lanes = [
        f"{lane.name or lane.id}（{lane.steps} 个元素）→ "
        + (
            f"岗位 {lookup.label('workflow_role', lane.role)}（{lane.role}）"
            if lane.role
            else "无对应岗位，未设置"
        )
        for lane in preview.lanes
    ]
    return ProcessView(
        id=preview.id,
        label=f"{preview.name}（{preview.id}）" if preview.name != preview.id else preview.id,
        summary=(
            f"{preview.steps} 个环节、{preview.transitions} 条连线、{len(preview.lanes)} 条泳道"
        ),
        lanes=lanes,
        problem=preview.problem,
    )
