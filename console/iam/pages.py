"""Login and password-change pages."""

from __future__ import annotations

import reflex as rx

from console.iam.state import ChangePasswordState, LoginState, PasswordRule, SessionState
from console.ui import theme
from console.ui.components import error_callout
from console.ui.widgets import field

# Fields the browser may fill from the saved password; the others take a new one.
CURRENT_PASSWORDS = ("password", "current_password")


def card_page(*children: rx.Component) -> rx.Component:
    """A card centred on the sign-in background (login, password, second factor)."""
    return rx.center(
        rx.card(
            rx.vstack(*children, spacing="4", width="100%"),
            width="400px",
            size="4",
        ),
        min_height="100vh",
        background="linear-gradient(160deg, #0f1e3d 0%, #1f3a73 60%, #3b5ba9 100%)",
        font_family=theme.FONT_STACK,
    )


def submit_wide(label: str, *, loading: rx.Var[bool], testid: str) -> rx.Component:
    """The full-width submit button of a sign-in card."""
    return rx.button(
        label, type="submit", size="3", width="100%", loading=loading, data_testid=testid
    )


def brand(subtitle: str) -> rx.Component:
    """The product name over a subtitle."""
    return rx.vstack(
        rx.hstack(
            rx.icon("landmark", size=28, color="var(--indigo-9)"),
            rx.heading(theme.PRODUCT_NAME, size="5", as_="h1"),
            align="center",
        ),
        rx.text(subtitle, color_scheme="gray", size="2"),
        spacing="1",
        align="center",
        width="100%",
    )


def _code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("请输入手机身份验证器显示的 6 位动态验证码。", size="2"),
            field(
                "动态验证码",
                "code",
                placeholder="6 位数字；手机丢失时可输入恢复码",
                size="3",
                auto_complete="one-time-code",
                auto_focus=True,
                on_blur=LoginState.check_code,
                data_testid="login-code",
                error=LoginState.code_error,
            ),
            error_callout(LoginState.error, testid="login-error"),
            submit_wide("验证并登录", loading=LoginState.submitting, testid="login-code-submit"),
            rx.link("返回重新输入账号", on_click=LoginState.restart, size="2", href="#"),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
        width="100%",
        data_testid="login-code-form",
    )


def login_page() -> rx.Component:
    """Account and password, then the second factor; errors in Chinese, never which was wrong."""
    password_form = rx.form(
        rx.vstack(
            field(
                "账号",
                "account",
                placeholder="请输入账号",
                size="3",
                auto_complete="username",
                auto_focus=True,
                on_blur=LoginState.check_account,
                data_testid="login-account",
                error=LoginState.account_error,
            ),
            _password_field(
                "密码",
                "password",
                "请输入密码",
                "login-password",
                LoginState.password_error,
                on_blur=LoginState.check_password,
            ),
            error_callout(LoginState.error, testid="login-error"),
            submit_wide("登录", loading=LoginState.submitting, testid="login-submit"),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit,
        width="100%",
        data_testid="login-form",
        # Lets tests (and scripts) wait until the page talks to the backend.
        data_ready=rx.State.is_hydrated.to_string(),
    )
    return card_page(
        brand("运维管理 · 综合监管控制台"),
        rx.cond(
            LoginState.notice != "",
            rx.callout(
                LoginState.notice,
                icon="info",
                color_scheme="blue",
                width="100%",
                data_testid="login-notice",
            ),
        ),
        rx.cond(LoginState.step == "code", _code_form(), password_form),
        rx.text("仅限授权人员使用，所有操作均被记录审计。", size="1", color_scheme="gray"),
    )


def _rule_row(rule: PasswordRule) -> rx.Component:
    return rx.hstack(
        rx.cond(
            rule.passed,
            rx.icon("circle-check", size=14, color="var(--green-10)"),
            rx.icon("circle-x", size=14, color="var(--gray-9)"),
        ),
        rx.text(
            rule.rule, size="1", color=rx.cond(rule.passed, "var(--green-11)", "var(--gray-11)")
        ),
        spacing="2",
        align="center",
        data_passed=rule.passed.to_string(),
    )


def _password_field(
    label: str,
    name: str,
    placeholder: str,
    testid: str,
    error: rx.Var[str] | str,
    **events: object,
) -> rx.Component:
    return field(
        label,
        name,
        type="password",
        placeholder=placeholder,
        size="3",
        auto_complete="current-password" if name in CURRENT_PASSWORDS else "new-password",
        data_testid=testid,
        error=error,
        **events,
    )


def change_password_page() -> rx.Component:
    """Password change with the policy shown live; forced on first login."""
    error_for = ChangePasswordState.error_field
    form = rx.form(
        rx.vstack(
            _password_field(
                "当前密码",
                "current_password",
                "请输入当前密码",
                "pw-current",
                rx.cond(error_for == "当前密码", ChangePasswordState.error, ""),
            ),
            _password_field(
                "新密码",
                "new_password",
                "请输入新密码",
                "pw-new",
                rx.cond(error_for == "新密码", ChangePasswordState.error, ""),
                on_change=ChangePasswordState.check_new.debounce(150),
            ),
            rx.vstack(
                rx.foreach(ChangePasswordState.rules, _rule_row),
                spacing="1",
                data_testid="pw-rules",
            ),
            _password_field(
                "确认新密码",
                "confirm_password",
                "请再次输入新密码",
                "pw-confirm",
                rx.cond(
                    error_for == "确认新密码",
                    ChangePasswordState.error,
                    ChangePasswordState.confirm_error,
                ),
                on_blur=ChangePasswordState.check_confirm,
            ),
            error_callout(rx.cond(error_for == "", ChangePasswordState.error, "")),
            submit_wide("确认修改", loading=ChangePasswordState.submitting, testid="pw-submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=ChangePasswordState.submit,
        reset_on_submit=False,
        width="100%",
    )
    return rx.cond(
        SessionState.authenticated,
        card_page(
            brand("修改密码"),
            rx.cond(
                ChangePasswordState.forced,
                rx.callout(
                    "首次登录或密码已被重置，请先设置新密码后再使用系统。",
                    icon="key-round",
                    color_scheme="amber",
                    width="100%",
                    data_testid="pw-forced",
                ),
            ),
            form,
            rx.hstack(
                rx.cond(~ChangePasswordState.forced, rx.link("返回", href="/", size="2")),
                rx.spacer(),
                rx.link("退出登录", on_click=SessionState.logout, size="2", href="#"),
                width="100%",
            ),
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
