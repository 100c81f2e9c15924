"""The console shell: sidebar with every section, header with user and tenant, breadcrumb."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from console.ui import theme
from console.ui.health_banner import health_banner
from console.ui.navigation import GROUPS, SECTIONS, Section
from console.ui.session import session_port

# Widgets a domain puts in the header before the user menu (the alerts bell): the kit sits
# below the domains and cannot import them, so they hand their renderers in.
_header_widgets: list[Callable[[], rx.Component]] = []


def provide_header_widget(render: Callable[[], rx.Component]) -> None:
    """Show ``render()`` in every page's header, before the user menu (once per renderer)."""
    if render not in _header_widgets:
        _header_widgets.append(render)


def _nav_item(section: Section, active: bool) -> rx.Component:
    # Shown only when the server found ``read`` on the page's object for this user.
    session = session_port().state
    return rx.cond(session.allowed_sections.contains(section.key), _nav_link(section, active))


def _nav_link(section: Section, active: bool) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon(section.icon, size=16),
            rx.text(section.label, size="2"),
            align="center",
            spacing="3",
            padding_x="14px",
            padding_y="8px",
            width="100%",
            border_radius="6px",
            background=theme.SIDEBAR_ACTIVE_BG if active else "transparent",
            color="white" if active else theme.SIDEBAR_TEXT,
            _hover={"background": theme.SIDEBAR_ACTIVE_BG, "color": "white"},
        ),
        href=section.route,
        underline="none",
        width="100%",
        aria_current="page" if active else None,
        data_testid=f"nav-{section.key}",
    )


def sidebar(active_key: str) -> rx.Component:
    """Left navigation, grouped as the product is organised."""
    groups = []
    for group in GROUPS:
        items = [_nav_item(s, s.key == active_key) for s in SECTIONS if s.group == group]
        groups.append(
            rx.vstack(
                rx.text(group, size="1", color="#7f8fb0", padding_x="14px", weight="medium"),
                *items,
                spacing="1",
                width="100%",
            )
        )
    # The nav stretches to the page's full height (its background with it); the menu inside
    # stays in view while a long page scrolls.
    return rx.el.nav(
        rx.box(
            rx.vstack(
                _brand(),
                rx.vstack(*groups, spacing="4", width="100%", padding_x="8px"),
                spacing="2",
            ),
            style={"position": "sticky", "top": "0", "max_height": "100vh", "overflow_y": "auto"},
        ),
        aria_label="主导航",
        style={
            "width": theme.SIDEBAR_WIDTH,
            "min_width": theme.SIDEBAR_WIDTH,
            "min_height": "100vh",
            "align_self": "stretch",
            "background": theme.SIDEBAR_BG,
        },
    )


def _brand() -> rx.Component:
    return rx.hstack(
        rx.icon("landmark", size=22, color="white"),
        rx.vstack(
            rx.text(theme.PRODUCT_NAME, size="2", weight="bold", color="white"),
            rx.text("运维管理 · 综合监管", size="1", color=theme.SIDEBAR_TEXT),
            spacing="0",
        ),
        align="center",
        spacing="2",
        padding="16px 14px",
    )


def breadcrumb(section: Section | None, title: str) -> rx.Component:
    """首页 / group / page, the first part linking home."""
    parts: list[rx.Component] = [rx.link("首页", href="/", size="2")]
    if section is not None and section.route != "/":
        parts += [rx.text("/", size="2", color_scheme="gray"), rx.text(section.group, size="2")]
    if section is None or section.route != "/":
        parts += [rx.text("/", size="2", color_scheme="gray"), rx.text(title, size="2")]
    return rx.el.nav(rx.hstack(*parts, spacing="2", align="center"), aria_label="面包屑")


def tenant_switcher() -> rx.Component:
    """Province users pick one tenant or all; county users just see theirs."""
    session = session_port().state
    badge = rx.badge(
        rx.icon("map-pin", size=12),
        session.tenant_label,
        variant="soft",
        size="2",
        data_testid="header-tenant",
    )
    options = rx.foreach(
        session.tenant_options,
        lambda option: rx.select.item(option.name, value=option.code),
    )
    return rx.cond(
        session.tenant_options.length() > 0,
        rx.hstack(
            badge,
            rx.select.root(
                rx.select.trigger(placeholder="切换租户", data_testid="tenant-switch"),
                rx.select.content(rx.select.item("全部租户", value="*"), options),
                value=rx.cond(session.context_tenant == "", "*", session.context_tenant),
                on_change=session.switch_tenant,
                size="1",
            ),
            spacing="2",
            align="center",
        ),
        badge,
    )


def user_menu() -> rx.Component:
    """Current user, their tenant, and the account actions."""
    port = session_port()
    session = port.state
    return rx.hstack(
        tenant_switcher(),
        rx.menu.root(
            rx.menu.trigger(
                rx.button(
                    rx.icon("circle-user", size=16),
                    session.user_label,
                    rx.icon("chevron-down", size=14),
                    variant="ghost",
                    data_testid="user-menu",
                )
            ),
            rx.menu.content(
                rx.menu.item(rx.text("账号：", session.account), disabled=True),
                rx.menu.separator(),
                rx.menu.item(
                    "我的账号与访问令牌",
                    on_click=rx.redirect(port.account_route),
                    data_testid="menu-account",
                ),
                rx.menu.item(
                    "修改密码",
                    on_click=rx.redirect(port.change_password_route),
                    data_testid="menu-pw",
                ),
                rx.menu.item(
                    "退出登录",
                    color="red",
                    on_click=session.logout,
                    data_testid="menu-logout",
                ),
            ),
        ),
        spacing="3",
        align="center",
    )


def header(section: Section | None, title: str) -> rx.Component:
    """Top bar of the shell."""
    return rx.hstack(
        breadcrumb(section, title),
        rx.spacer(),
        *[render() for render in _header_widgets],
        user_menu(),
        align="center",
        height=theme.HEADER_HEIGHT,
        padding_x="24px",
        background="white",
        border_bottom="1px solid var(--gray-5)",
        width="100%",
    )


# Shown by CSS alone after this long, even when no answer can reach the page at all.
_STILL_WAITING = {"opacity": "0", "animation": "bdc-appear 0s linear 10s forwards"}


def _loading() -> rx.Component:
    session = session_port().state
    failed = rx.vstack(
        rx.callout(
            session.check_failed,
            icon="triangle-alert",
            color_scheme="amber",
            data_testid="session-check-failed",
        ),
        rx.button("重试", size="2", on_click=session.guard, data_testid="session-retry"),
        align="center",
    )
    waiting = rx.vstack(
        rx.hstack(rx.spinner(size="3"), rx.text("正在验证登录状态…", color_scheme="gray")),
        rx.text(
            "长时间没有响应：网络可能已断开，或服务器繁忙。",
            # A plain link: nothing from the backend can reach a page in this state.
            rx.el.a("刷新页面", href="", data_testid="session-reload"),
            size="2",
            color_scheme="gray",
            style=_STILL_WAITING,
            data_testid="session-check-slow",
        ),
        rx.el.style("@keyframes bdc-appear { to { opacity: 1; } }"),
        align="center",
    )
    return rx.center(
        rx.cond(session.check_failed != "", failed, waiting), height="100vh", width="100%"
    )


def forbidden_panel() -> rx.Component:
    """What a user sees on a page they may not read (the attempt is logged server-side)."""
    return rx.callout(
        "无权限：您没有访问此页面的权限。如确需访问，请联系安全管理员授权。本次访问已记录。",
        icon="shield-alert",
        color_scheme="red",
        data_testid="page-forbidden",
        max_width="720px",
    )


def shell(content: rx.Component, *, title: str, section: Section | None) -> rx.Component:
    """Wrap a page's content in the shell, shown only once the session is verified."""
    session = session_port().state
    content = rx.cond(session.page_denied, forbidden_panel(), content)
    return rx.cond(
        session.authenticated,
        rx.hstack(
            sidebar(section.key if section else ""),
            rx.vstack(
                rx.el.header(header(section, title), style={"width": "100%"}),
                health_banner(),
                rx.el.main(content, style={"padding": "24px", "width": "100%"}),
                spacing="0",
                width="100%",
                min_height="100vh",
            ),
            spacing="0",
            width="100%",
            align="start",
        ),
        _loading(),
    )
