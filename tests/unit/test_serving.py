"""build-frontend replaces only a folder it built itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_build_frontend_refuses_a_folder_that_is_not_an_earlier_build(tmp_path: Path) -> None:
    precious = tmp_path / "data"
    precious.mkdir()
    (precious / "console.db").write_text("keep me")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    env["BDC_DATA_DIR"] = str(tmp_path / "console-data")
    result = subprocess.run(
        [sys.executable, "-m", "console", "build-frontend",
         "--api-url", "https://bdc.example.gov.cn", "--out", str(precious)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "不是此前构建的前端" in result.stderr
    assert (precious / "console.db").read_text() == "keep me"
