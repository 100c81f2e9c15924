from pathlib import Path

from loguru import logger

from console.core.logging import configure_logging, request_context
from console.core.settings import get_settings


def test_every_line_carries_the_request_id_and_reaches_the_log_file(tmp_path: Path) -> None:
    settings = get_settings()
    configure_logging(settings)
    with request_context("req-abc123"):
        logger.warning("inside a request")
    logger.warning("outside any request")
    logger.complete()
    lines = (settings.log_dir / "console.log").read_text(encoding="utf-8").splitlines()
    inside = next(line for line in lines if "inside a request" in line)
    outside = next(line for line in lines if "outside any request" in line)
    assert "| req-abc123 |" in inside
    assert "| - |" in outside
