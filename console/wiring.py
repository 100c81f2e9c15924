"""What the app connects at start-up because the layers below may not know each other.

Core's logging knows no domain and audit knows no log lake: the app hands the lake's
``exception`` sink to the logging set-up and subscribes the lake's ``operation`` stream to
committed audit entries. Every entry point (the Reflex app, the CLI, the API served alone)
calls ``wire`` before doing anything else; the API served alone is built in
``console.http_api`` so that the CLI does not import the HTTP stack.
"""

from __future__ import annotations

from console.core.logging import configure_logging
from console.core.settings import get_settings
from console.logs import own


def wire() -> None:
    """Route the console's own operations and errors into the log lake (idempotent)."""
    own.install()
    configure_logging(get_settings(), error_sinks=(own.exception_sink,))
