"""The Reflex app: every domain's pages, the shell, and the HTTP API."""

from __future__ import annotations

import reflex as rx

from console.api.app import create_api
from console.core.db import migrate
from console.core.logging import configure_logging
from console.core.settings import get_settings
from console.iam.pages import change_password_page, login_page
from console.iam.state import (
    CHANGE_PASSWORD_ROUTE,
    LOGIN_ROUTE,
    ChangePasswordState,
    LoginState,
    SessionState,
)
from console.ui import theme
from console.ui.navigation import SECTIONS
from console.ui.pages import not_found, under_construction


def _startup() -> None:
    """Backend start: logging, then schema upgrade so code and DB always agree."""
    configure_logging(get_settings())
    migrate()


app = rx.App(
    style=theme.APP_STYLE,
    html_lang="zh-CN",
    api_transformer=create_api(),
)
app.register_lifespan_task(_startup)

app.add_page(
    login_page, route=LOGIN_ROUTE, title=f"登录 · {theme.PRODUCT_NAME}", on_load=LoginState.load
)
app.add_page(
    change_password_page,
    route=CHANGE_PASSWORD_ROUTE,
    title=f"修改密码 · {theme.PRODUCT_NAME}",
    on_load=[SessionState.guard, ChangePasswordState.load],
)
for _section in SECTIONS:
    app.add_page(
        under_construction(_section),
        route=_section.route,
        title=f"{_section.label} · {theme.PRODUCT_NAME}",
        on_load=SessionState.guard,
    )
app.add_page(not_found, route="404", title=f"页面不存在 · {theme.PRODUCT_NAME}")
