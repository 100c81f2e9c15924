"""The dependency banner: the backend's health check, polled by the browser over plain HTTP.

The React code lives beside this module in ``health_banner.jsx`` (linked into the build as
the workflow designer's is). It needs no state and no websocket, so it still speaks when the
engine behind page events (Redis, PostgreSQL) is the one that is gone.
"""

from __future__ import annotations

import reflex as rx

_SOURCE = rx.asset("health_banner.jsx", shared=True)


class HealthBanner(rx.Component):
    """Shows 「Redis暂时无法连接…」 (or the database, or the console itself) while it lasts."""

    library = _SOURCE.importable_path
    tag = "HealthBanner"


health_banner = HealthBanner.create
