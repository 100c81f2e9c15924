from __future__ import annotations

import pytest

from console.core.db import session_scope
from console.dictionaries.seed import load_seed
from tests.support.world import World


@pytest.fixture
def dicts(world: World) -> World:
    """The standard world with the seed dictionaries loaded."""
    with session_scope() as session:
        load_seed(session)
    return world
