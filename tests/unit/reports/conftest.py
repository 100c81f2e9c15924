"""The statistics tests' simulated province serves the report tests too."""

from tests.unit.stats.conftest import province  # noqa: F401
