"""Import every BPMN file under a folder (e.g. the whole BPMN MIWG test suite, all tools' exports).

For each process of each file: import it, export it, check the export against BPMN20.xsd and
import the export again, which must give the same workflow. Prints counts and every file that
failed one of the steps. Run with the suite fetched beside the checkout:

    python -m bench.bpmn_suite /path/to/bpmn-miwg-test-suite
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

from console.core.errors import ValidationFailed
from console.workflows.bpmn import export_bpmn
from console.workflows.bpmn_reading import import_process, read_processes
from tests.support.spiff import xsd_errors

MAX_BYTES = 2_000_000  # the console's upload cap


def _no_role(_name: str) -> None:
    return None


def _try_process(text: str, process_id: str) -> str:
    """Why the process fails import, export, schema check or re-import ("" when it passes)."""
    body, _ = import_process(text, process_id=process_id, role_of=_no_role)
    exported = export_bpmn(body, key="suite", version=1)
    errors = xsd_errors(exported)
    if errors:
        return f"导出不符合 BPMN20.xsd：{errors[0]}"
    again, _ = import_process(exported, process_id="suite", role_of=_no_role)
    return "" if again == body else "再次导入结果不同"


def main(folder: str) -> None:
    """Try every file under ``folder`` and print what passed and what failed, and why."""
    counts: Counter[str] = Counter()
    failures: dict[str, list[str]] = defaultdict(list)
    for path in sorted(Path(folder).rglob("*.bpmn")):
        raw = path.read_bytes()
        if len(raw) > MAX_BYTES:
            counts["超过上传上限的文件"] += 1
            continue
        text = raw.decode("utf-8", errors="replace")
        try:
            previews = read_processes(text, role_of=_no_role)
        except ValidationFailed as refused:
            counts["拒绝的文件"] += 1
            failures[refused.message].append(str(path))
            continue
        counts["文件"] += 1
        for preview in previews:
            if preview.problem:
                counts["没有办理环节的流程"] += 1
                continue
            problem = _try_process(text, preview.id)
            counts["失败的流程" if problem else "往返一致的流程"] += 1
            if problem:
                failures[problem].append(f"{path} #{preview.id}")
    for name, count in counts.items():
        print(f"{name}: {count}")
    for reason, paths in failures.items():
        print(f"\n{reason}（{len(paths)}）")
        for shown in paths[:10]:
            print(f"  {shown}")


if __name__ == "__main__":
    main(sys.argv[1])
