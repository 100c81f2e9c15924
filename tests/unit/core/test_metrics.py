"""The metrics folder: where a process writes, what a fresh start clears, bounded labels."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from console.core import metrics

ROOT = Path(__file__).resolve().parents[3]


def _in_new_process(script: str, env: dict[str, str]) -> dict:
    """Run ``script`` in a fresh interpreter (its last line printed as JSON) and read it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BDC_", "PROMETHEUS_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    return int(finished.stdout)


def test_clear_stale_keeps_only_the_files_of_running_processes(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getpid()
    names = [f"counter_{alive}.db", f"counter_{dead}.db", f"histogram_{dead}.db",
             f"gauge_livesum_{dead}.db", "notes.txt"]  # fmt: skip
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert metrics.clear_stale(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{alive}.db", "notes.txt"]


SETUP = """
import json, os
import prometheus_client  # imported before the folder is known: still multiprocess after setup
from console.core import metrics
folder = metrics.setup(fresh={fresh})
metrics.record_job_run(job="x", outcome="succeeded", seconds=1)
try:
    metrics.setup(fresh=True)
    late = ""
except RuntimeError as error:
    late = str(error)
print(json.dumps({{"folder": str(folder), "env": os.environ["PROMETHEUS_MULTIPROC_DIR"],
                  "mode": oct(folder.stat().st_mode & 0o777), "pid": os.getpid(),
                  "files": sorted(p.name for p in folder.iterdir()), "late": late}}))
"""


def test_a_process_takes_its_data_folders_metrics_folder_and_exports_it(tmp_path: Path) -> None:
    seen = _in_new_process(SETUP.format(fresh=False), {"BDC_DATA_DIR": str(tmp_path)})
    folder = tmp_path / ".metrics"
    assert (seen["folder"], seen["env"], seen["mode"]) == (str(folder), str(folder), "0o700")
    assert f"counter_{seen['pid']}.db" in seen["files"]
    assert "after metrics were recorded" in seen["late"]


def test_a_child_keeps_the_inherited_folder_and_a_fresh_start_takes_its_own(
    tmp_path: Path,
) -> None:
    inherited = tmp_path / "server-metrics"
    inherited.mkdir()
    env = {"BDC_DATA_DIR": str(tmp_path / "data"), "PROMETHEUS_MULTIPROC_DIR": str(inherited)}
    child = _in_new_process(SETUP.format(fresh=False), env)
    assert child["folder"] == str(inherited)

    own = tmp_path / "data" / ".metrics"
    own.mkdir(parents=True)
    (own / f"counter_{_dead_pid()}.db").write_bytes(b"")
    main = _in_new_process(SETUP.format(fresh=True), env)
    assert (main["folder"], main["env"]) == (str(own), str(own))
    assert main["files"] == [f"counter_{main['pid']}.db", f"histogram_{main['pid']}.db"]


def test_labels_stay_bounded_whatever_the_request_says() -> None:
    route = f"/test/{secrets.token_hex(3)}"
    metrics.observe_request(route=route, method="PROPFIND", status=999, seconds=0.01)
    metrics.observe_request(route=route, method="get", status=204, seconds=-1)
    counts = {
        (sample.labels["method"], sample.labels["status_class"]): sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
        if sample.name.endswith("_count") and sample.labels.get("route") == route
    }
    assert counts == {("other", "other"): 1, ("GET", "2xx"): 1}
