"""Backup and restore of the demo province-year: full set, the next day's increment, restore.

    .venv/bin/python bench/backup_restore.py [--days 365] [--scale 0.002] [--workdir DIR]

Builds the demo (``init`` + ``seed-demo``: a year of the simulated province pushed through
the real ingestion path and sealed), then times, through the operator's commands:

1. ``backup --to DIR --no-verify``: the first, full set (size on the target);
2. one more simulated day (sealed), then the incremental ``backup``;
3. ``restore latest`` onto an empty data folder, which ends with every check
   (integrity, row counts, pending events, the chain over the restored lake, decryption);
4. ``backup-verify``: the same restore into a scratch folder, as the daily job does.

DuckDB has no part in this: the figures are wall times of whole commands (design.md §6
targets: full < 2 min, incremental < 10 s, restore with verification < 5 min).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "bench-passphrase-0123456789"


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BDC_")}
    env["BDC_DATA_DIR"] = str(data)
    env["BDC_SCHEDULER_ENABLED"] = "false"
    return env


def _run(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "console", *args],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _one_more_day(env: dict[str, str], scale: float) -> None:
    code = (
        "from datetime import timedelta\n"
        "from console.core.clock import utcnow\n"
        "from console.core.db import session_scope\n"
        "from console.simulate.service import simulate\n"
        "with session_scope() as s:\n"
        f"    simulate(session=s, days=2, scale={scale}, seed=99,\n"
        "             now=utcnow() + timedelta(days=1))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )


def main() -> None:
    """Build the demo, then time each command."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scale", type=float, default=0.002)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bdc-bench-backup-"))
    work.mkdir(parents=True, exist_ok=True)
    data, target, restored = work / "data", work / "target", work / "restored"
    secret = work / "backup.pass"
    secret.write_text(PASSPHRASE)
    secret.chmod(0o600)
    env = _env(data)
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    seeded = _run(env, "init") + _run(
        env, "seed-demo", "--days", str(args.days), "--scale", str(args.scale)
    )
    print(
        f"demo: {args.days} days at scale {args.scale}, built in {seeded:.0f} s; "
        f"data folder {_size(data) / 2**20:.1f} MB"
    )
    full = _run(env, "backup", "--to", str(target), "--passphrase-file", str(secret), "--no-verify")
    print(f"full backup: {full:.1f} s, target {_size(target) / 2**20:.1f} MB")
    _one_more_day(env, args.scale)
    before = _size(target)
    step = _run(env, "backup", "--to", str(target), "--passphrase-file", str(secret), "--no-verify")
    print(
        f"incremental after one more day: {step:.1f} s, +{(_size(target) - before) / 2**20:.1f} MB"
    )
    shutil.rmtree(restored, ignore_errors=True)
    back = _run(
        _env(restored), "restore", "latest", "--from", str(target), "--passphrase-file", str(secret)
    )
    print(f"restore onto an empty folder, with every check: {back:.1f} s")
    checked = _run(env, "backup-verify", "--from", str(target), "--passphrase-file", str(secret))
    print(f"backup-verify (scratch restore + checks): {checked:.1f} s")


if __name__ == "__main__":
    main()
