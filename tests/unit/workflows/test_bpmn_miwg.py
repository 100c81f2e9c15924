"""Every reference model of the BPMN MIWG test suite imports, process by process.

The models (CC BY 3.0, see miwg/LICENSE.txt and miwg/README.md) were drawn by other tools:
several hold collaborations of pools with lanes, sub-processes, boundary and intermediate
events, data objects and vendor extensions. Each process must import with its lanes and
everything the designer cannot show listed and kept, export valid against BPMN20.xsd, and
import again to the same workflow.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from console.workflows.bpmn import BPMN, export_bpmn
from console.workflows.bpmn_reading import import_process, read_processes
from tests.support import spiff

MODELS = sorted((Path(__file__).parent / "miwg").glob("*.bpmn"))
SHOWN = {"startEvent", "endEvent", "userTask", "task", "manualTask", "exclusiveGateway"}
DERIVED = {"sequenceFlow", "laneSet"}


def _no_role(_name: str) -> None:
    return None


def test_the_whole_reference_suite_is_here() -> None:
    assert len(MODELS) == 21
    assert (Path(__file__).parent / "miwg" / "LICENSE.txt").exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_each_reference_model_imports_every_process_with_lanes_and_what_was_left_out(
    model: Path,
) -> None:
    text = model.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    processes = root.findall(f"{{{BPMN}}}process")
    previews = read_processes(text, role_of=_no_role)
    assert [p.id for p in previews] == [p.get("id") for p in processes]
    for element, preview in zip(processes, previews, strict=True):
        lanes = [lane.get("id") for lane in element.iter(f"{{{BPMN}}}lane")]
        assert [lane.id for lane in preview.lanes] == lanes
        listed = " ".join(part.element for part in preview.unrepresented)
        for child in element:
            local = child.tag.rsplit("}", 1)[-1]
            if local not in SHOWN | DERIVED and child.get("id"):
                assert child.get("id") in listed, f"{local} {child.get('id')} not listed"
        body, imported = import_process(text, process_id=preview.id, role_of=_no_role)
        assert len(body.steps) == preview.steps > 0
        assert len(body.kept) == len(imported.unrepresented)
        exported = export_bpmn(body, key="miwg", version=1)
        assert spiff.xsd_errors(exported) == []
        again, _ = import_process(exported, process_id="miwg", role_of=_no_role)
        assert again == body


def test_a_collaboration_shows_each_pool_by_its_participants_name() -> None:
    text = (Path(__file__).parent / "miwg" / "C.2.0.bpmn").read_text(encoding="utf-8")
    names = [p.name for p in read_processes(text, role_of=_no_role)]
    assert names == ["Credit Card Company", "Carrier", "Customer", "Amazon"]
