"""A real HTTP receiver for sharing tasks, and an outbound interface pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.receiver import Receiver
from tests.support.world import World
from tests.unit.interfaces.test_sharing_tasks import _interface


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def tax(world: World, receiver: Receiver) -> int:
    """Id of an outbound interface pointing at the receiver."""
    return _interface(receiver.url)
