"""One cluster for the module's tests: PostgreSQL, Redis, two backends and nginx on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (  # noqa: F401  (one Chromium per worker, as the e2e tests have)
    browser_context_args,
    browser_type_launch_args,
    store_account,
)
from tests.support.cluster import Cluster, start_cluster
from tests.support.postgres import PostgresCluster
from tests.support.redis import RedisServer

# Small enough that the sign-in throttle's test reaches it across both backends.
LOGIN_ATTEMPTS = 6
KEY_RATE_PER_MINUTE = 6


@pytest.fixture(scope="session")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_cluster: PostgresCluster,
    redis_server: RedisServer,
) -> Iterator[Cluster]:
    """The cluster, started once for the cluster tests (they all run on one worker)."""
    database_url = postgres_cluster.create_database("bdc_cluster")
    started = start_cluster(
        tmp_path_factory.mktemp("cluster"),
        database_url=database_url,
        redis_url=redis_server.url,
        extra_env={
            "BDC_LOGIN_ATTEMPTS_PER_ADDRESS": str(LOGIN_ATTEMPTS),
            "BDC_RATE_LIMIT_WINDOW_SECONDS": "60",
            "BDC_ALERT_EVAL_SECONDS": "10",
        },
    )
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def cluster_user(cluster: Cluster) -> str:
    """A province supervisor (second factor bound) with the e2e password, in the cluster's DB."""
    return store_account(cluster, "cluster_supervisor", ("province_supervisor",))
