"""The import-linter layers contract in pyproject.toml holds, and it catches a crossing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the ``lint-imports`` script runs, started from this interpreter.
_RUN = (
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())"
)


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``console`` package found first on the path from ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", _RUN, "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy_tree(target: Path) -> Path:
    """The package's sources and the project's pyproject.toml, copied under ``target``."""
    shutil.copytree(
        ROOT / "console",
        target / "console",
        ignore=shutil.ignore_patterns("__pycache__", "*.jsx", "*.j2", "versions"),
    )
    (target / "console" / "migrations" / "versions").mkdir()
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_layers_contract_is_kept_by_the_code() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_core_module_importing_a_domain_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    (tree / "console" / "core" / "crossing.py").write_text(
        '"""A deliberate crossing: core reaching up into IAM."""\n\nimport console.iam.models\n',
        encoding="utf-8",
    )
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "console.core.crossing -> console.iam.models" in result.stdout


def test_a_lower_domain_importing_a_higher_one_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    (tree / "console" / "logs" / "crossing.py").write_text(
        '"""A deliberate crossing: the log lake reaching up into statistics."""\n\n'
        "from console.stats import service\n",
        encoding="utf-8",
    )
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "console.logs.crossing -> console.stats.service" in result.stdout
