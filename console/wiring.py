"""What the app connects at start-up because the layers below may not know each other.

Core's logging knows no domain and audit knows no log lake: the app hands the lake's
``exception`` sink to the logging set-up and subscribes the lake's ``operation`` stream to
committed audit entries. Every entry point (the Reflex app, the CLI, the API served alone)
calls ``wire`` before doing anything else; the API served alone is built in
``console.http_api`` so that the CLI does not import the HTTP stack.
"""

from __future__ import annotations

import os
from pathlib import Path

from console.core.crypto import check_key_files
from console.core.logging import configure_logging
from console.core.settings import get_settings
from console.logs import own

# Databases, keys, the lake, logs, backups and reports are the owner's alone: files 0600,
# folders 0700, whatever the shell's umask was.
PRIVATE_UMASK = 0o077


def _tighten(data_dir: Path) -> None:
    """Close the data folder and the databases in it that an earlier version left open."""
    for path in (data_dir, *data_dir.glob("*.db*")):
        try:
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                path.chmod(mode & 0o700)
        except FileNotFoundError:
            continue  # a journal that SQLite removed meanwhile


def wire() -> None:
    """Private files, no exposed keys, the console's own records into the lake (idempotent).

    Raises:
        KeyFileExposed: a key file others may read.
    """
    os.umask(PRIVATE_UMASK)
    settings = get_settings()
    data_dir = settings.resolved_data_dir
    if data_dir.is_dir():
        _tighten(data_dir)
    check_key_files(settings)
    own.install()
    configure_logging(settings, error_sinks=(own.exception_sink,))
