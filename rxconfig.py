"""Reflex configuration; ports and paths come from the console's ``BDC_*`` settings."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="console",
    # The console runs its own engine and Alembic migrations (console.core.db), so Reflex's
    # db_url stays unset: Reflex would otherwise look for its own alembic.ini.
    # Ports and host are passed by `python -m console serve` from the BDC_* settings.
    telemetry_enabled=False,
    # Cluster mode: page state in the shared Redis (BDC_REDIS_URL), so any backend process
    # or node can serve any browser; unset, the state stays in this process's memory.
    redis_url=os.environ.get("BDC_REDIS_URL") or None,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[SitemapPlugin],
)
