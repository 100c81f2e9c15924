"""Playwright helpers for the workflow designer (console.workflows.flow_designer).

Every helper takes a synchronous Playwright ``page`` showing one designer. Coordinates
passed in are relative to the canvas's top-left corner (the React Flow pane, right of the
palette), in screen pixels.
"""

from __future__ import annotations

from typing import Any

CANVAS = "[data-testid=flow-designer] .react-flow"
NODE = "[data-testid=flow-designer] .react-flow__node"
TIMEOUT_MS = 10_000


def _centre(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _box(page: Any, selector: str) -> dict[str, float]:
    locator = page.locator(selector).first
    locator.wait_for(state="visible", timeout=TIMEOUT_MS)
    box = locator.bounding_box()
    assert box is not None, f"{selector} has no box"
    return box


def step_ids(page: Any) -> list[str]:
    """Ids of the steps drawn on the canvas, in DOM order."""
    return page.eval_on_selector_all(NODE, "els => els.map(e => e.getAttribute('data-id'))")


def step_box(page: Any, step_id: str) -> dict[str, float]:
    """Screen box of a step's node."""
    return _box(page, f"{NODE}[data-id='{step_id}']")


def drag_from_palette(page: Any, kind: str, x: float, y: float) -> str:
    """Drag palette item ``kind`` (start/task/gateway/end) to canvas point (x, y).

    Uses real mouse moves: Playwright turns them into native HTML5 drag-and-drop in
    Chromium. Returns the id of the new step once it is on the canvas.
    """
    before = set(step_ids(page))
    source = _box(page, f"[data-testid=palette-{kind}]")
    canvas = _box(page, CANVAS)
    sx, sy = _centre(source)
    tx, ty = canvas["x"] + x, canvas["y"] + y
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 12, sy + 6, steps=3)
    page.mouse.move(tx, ty, steps=12)
    page.mouse.up()
    return wait_for_new_step(page, before)


def wait_for_new_step(page: Any, before: set[str]) -> str:
    """Wait until a step not in ``before`` is drawn; return its id."""
    page.wait_for_function(
        """([sel, known]) => [...document.querySelectorAll(sel)]
              .some(e => !known.includes(e.getAttribute('data-id')))""",
        arg=[NODE, sorted(before)],
        timeout=TIMEOUT_MS,
    )
    new = [i for i in step_ids(page) if i not in before]
    assert len(new) == 1, f"expected one new step, got {new}"
    return new[0]


def connect(page: Any, source_id: str, target_id: str, *, attempts: int = 3) -> None:
    """Draw a transition from ``source_id``'s outgoing handle to ``target_id``'s incoming one.

    Mouse down on the source handle, move in small steps (React Flow follows pointer
    moves), release over the target handle; then wait for the edge. On a loaded machine
    React Flow can miss a gesture's moves, so a drag that drew nothing is made again.
    """
    for _ in range(attempts):
        source = _box(page, f"[data-testid=handle-source-{source_id}]")
        target = _box(page, f"[data-testid=handle-target-{target_id}]")
        sx, sy = _centre(source)
        tx, ty = _centre(target)
        page.mouse.move(sx, sy)
        page.mouse.down()
        page.mouse.move(sx + 5, sy + 5, steps=2)
        page.mouse.move(tx, ty, steps=15)
        page.mouse.up()
        for _ in range(20):
            if edge_exists(page, source_id, target_id):
                return
            page.wait_for_timeout(250)
    raise AssertionError(f"no transition {source_id} → {target_id} after {attempts} drags")


def edge_exists(page: Any, source_id: str, target_id: str) -> bool:
    """Whether a transition source -> target is drawn (React Flow's edge aria-label)."""
    return (
        page.locator(
            f".react-flow__edge[aria-label='Edge from {source_id} to {target_id}']"
        ).count()
        > 0
    )


def click_edge(page: Any, source_id: str, target_id: str) -> None:
    """Click the midpoint of the transition source -> target (selects it)."""
    point = page.evaluate(
        """([s, t]) => {
            const edge = document.querySelector(
                `.react-flow__edge[aria-label='Edge from ${s} to ${t}']`);
            const path = edge && edge.querySelector('path.react-flow__edge-path');
            if (!path) return null;
            const p = path.getPointAtLength(path.getTotalLength() / 2);
            const m = path.getScreenCTM();
            return {x: p.x * m.a + p.y * m.c + m.e, y: p.x * m.b + p.y * m.d + m.f};
        }""",
        [source_id, target_id],
    )
    assert point is not None, f"no transition {source_id} -> {target_id}"
    page.mouse.click(point["x"], point["y"])


def delete_edge(page: Any, source_id: str, target_id: str) -> None:
    """Select a transition and press Delete."""
    click_edge(page, source_id, target_id)
    page.keyboard.press("Delete")


def drag_node(page: Any, step_id: str, dx: float, dy: float) -> None:
    """Drag a step's node by (dx, dy) screen pixels (fires on_graph_change on release)."""
    x, y = _centre(step_box(page, step_id))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=8)
    page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up()


def click_step(page: Any, step_id: str) -> None:
    """Click a step (fires on_select with its id)."""
    page.locator(f"[data-testid=step-{step_id}]").click()


def click_canvas(page: Any, x: float = 20, y: float = 20) -> None:
    """Click the empty canvas at (x, y) (fires on_select with "")."""
    canvas = _box(page, CANVAS)
    page.mouse.click(canvas["x"] + x, canvas["y"] + y)


def delete_step(page: Any, step_id: str) -> None:
    """Select a step and press Delete (removes it and its transitions)."""
    click_step(page, step_id)
    page.keyboard.press("Delete")


def auto_layout(page: Any) -> None:
    """Press 自动布局."""
    page.get_by_test_id("designer-layout").click()
