"""A simulated province for the statistics tests, sealed up to the day before NOW."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from console.core import db as core_db
from console.core.settings import get_settings
from tests.support.province import NOW, ProvinceTemplate, copy_template
from tests.support.world import World

__all__ = ["NOW", "duck"]  # what the test modules import from here


@pytest.fixture
def database_url(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """SQLite only: these figures come from the log lake; the configuration database (roles,
    tenants) is exercised on PostgreSQL by the IAM and tenancy tests."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    monkeypatch.setenv("BDC_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    core_db.engine_for(url).dispose()


@pytest.fixture
def province(province_template: ProvinceTemplate, database_url: str) -> World:
    """This test's own copy of the simulated province (tests/support/province.py)."""
    return copy_template(province_template)


_DAY = "CAST(timezone('Asia/Shanghai', ts) AS DATE)"


def duck(sql: str) -> pl.DataFrame:
    """Run SQL over the sealed Parquet files (views ``case_event``, ``interface_call``)."""
    lake = get_settings().lake_dir
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for stream in ("case_event", "interface_call"):
        connection.execute(
            f"CREATE VIEW {stream} AS SELECT *, {_DAY} AS day "
            f"FROM read_parquet('{lake}/{stream}/*/*.parquet')"
        )
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description]
    return pl.DataFrame(cursor.fetchall(), schema=names, orient="row", infer_schema_length=None)
