"""Visual workflow designer of 流程配置: a React Flow canvas wrapped as a Reflex component.

The React code lives beside this module in ``flow_designer.jsx``. ``rx.asset(shared=True)``
links it into ``assets/external/console/workflows/flow_designer/`` of the app being compiled
(ignored by git); Reflex copies ``assets/`` into ``.web/public`` and the component imports
it from ``$/public/...``. The npm packages are pinned in ``lib_dependencies`` and Reflex
installs them with the rest of the frontend.

The server is the source of truth. The component renders ``steps`` and ``transitions``
and, after every edit on the canvas (palette drop, new connection, deletion, node drag,
auto-layout), sends the whole graph back through ``on_graph_change(steps, transitions)``;
the handler stores it and the canvas follows the new props. A node being dragged keeps
its place while the props change under it.

A step is ``{"id", "name", "kind": "start"|"task"|"gateway"|"end", "x", "y", ...}``; other
keys (roles, actions, limit_workdays ...) pass through untouched. A transition is
``{"id", "source", "target", "condition"}``. Steps added on the canvas carry only
``id`` (``step_`` + 8 random characters), ``name``, ``kind``, ``x`` and ``y``; new
transitions get ids ``tr_`` + 8 random characters and an empty condition.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import passthrough_event_spec

XYFLOW_VERSION = "12.12.1"
DAGRE_VERSION = "3.1.3"

_SOURCE = rx.asset("flow_designer.jsx", shared=True)

GraphList = list[dict[str, Any]]


class FlowDesigner(rx.Component):
    """React Flow based editor for a workflow's steps and transitions."""

    library = _SOURCE.importable_path
    tag = "FlowDesigner"
    lib_dependencies: list[str] = [  # noqa: RUF012 - Reflex reads the class attribute
        f"@xyflow/react@{XYFLOW_VERSION}",
        f"@dagrejs/dagre@{DAGRE_VERSION}",
    ]

    # Steps: {"id", "name", "kind", "x", "y", ...}.
    steps: rx.Var[GraphList]
    # Transitions: {"id", "source", "target", "condition"}.
    transitions: rx.Var[GraphList]
    # Step id -> message shown under the step's name (red border).
    errors: rx.Var[dict[str, str]]
    # Role code -> label shown under a task's name (codes show as they are otherwise).
    role_labels: rx.Var[dict[str, str]]
    # Id of the highlighted step ("" for none).
    selected: rx.Var[str]
    # Hide the palette and the layout button; no dragging, connecting or deleting.
    read_only: rx.Var[bool]
    # Layout direction for handles and auto-layout: "TB" (top to bottom) or "LR".
    direction: rx.Var[str]

    # Fired with the full graph after every edit: (steps, transitions).
    on_graph_change: rx.EventHandler[passthrough_event_spec(GraphList, GraphList)]
    # Fired with the clicked step's id, or "" when the empty canvas is clicked.
    on_select: rx.EventHandler[passthrough_event_spec(str)]

    def add_imports(self) -> dict[str, str]:
        """React Flow's stylesheet, imported once per page that uses the designer."""
        return {"": "@xyflow/react/dist/style.css"}


def flow_designer(
    *,
    steps: rx.Var[GraphList] | GraphList,
    transitions: rx.Var[GraphList] | GraphList,
    errors: rx.Var[dict[str, str]] | dict[str, str] | None = None,
    role_labels: rx.Var[dict[str, str]] | dict[str, str] | None = None,
    selected: rx.Var[str] | str = "",
    read_only: rx.Var[bool] | bool = False,
    on_graph_change: Any = None,
    on_select: Any = None,
    direction: rx.Var[str] | str = "TB",
    **props: Any,
) -> rx.Component:
    """The workflow designer; style props (height, width ...) go to its outer box.

    ``on_graph_change`` takes a handler ``(steps: list[dict], transitions: list[dict])``,
    ``on_select`` a handler ``(step_id: str)``. The default height is 600px.
    """
    if on_graph_change is not None:
        props["on_graph_change"] = on_graph_change
    if on_select is not None:
        props["on_select"] = on_select
    props.setdefault("height", "600px")
    props.setdefault("width", "100%")
    return FlowDesigner.create(
        steps=steps,
        transitions=transitions,
        errors=errors if errors is not None else {},
        role_labels=role_labels if role_labels is not None else {},
        selected=selected,
        read_only=read_only,
        direction=direction,
        **props,
    )
