"""The seeded province templates, with the world's counties and accounts."""

from __future__ import annotations

import pytest

from console.core.db import session_scope
from console.dictionaries.seed import load_seed
from console.workflows.limits import load_time_limits
from console.workflows.seed import load_workflow_seed
from tests.support.world import World


@pytest.fixture
def templates(world: World) -> World:
    with session_scope() as session:
        load_seed(session)
        load_time_limits(session)
    with session_scope() as session:
        assert load_workflow_seed(session) == 11
    return world
