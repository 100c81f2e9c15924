"""绑定动态验证码: forced at sign-in for the roles that need a second factor."""

from __future__ import annotations

import reflex as rx

from console.iam.pages import brand, card_page, submit_wide
from console.iam.second_factor_state import SecondFactorState
from console.iam.state import SessionState
from console.ui.components import error_callout
from console.ui.widgets import field


def _scan() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "您的角色要求两步验证。请用手机上的身份验证器（如 FreeOTP、Google Authenticator、"
            "Microsoft Authenticator）扫描二维码，然后输入其显示的 6 位数字。",
            icon="smartphone",
            color_scheme="amber",
            width="100%",
            data_testid="mfa-forced",
        ),
        rx.center(
            rx.image(src=SecondFactorState.qr_data_uri, width="200px", alt="绑定二维码"),
            width="100%",
        ),
        rx.text("无法扫码时手工输入密钥：", size="2", color_scheme="gray"),
        rx.code(SecondFactorState.secret, data_testid="mfa-secret", size="2"),
        rx.form(
            rx.vstack(
                field(
                    "动态验证码",
                    "code",
                    placeholder="6 位数字",
                    size="3",
                    auto_complete="one-time-code",
                    input_mode="numeric",
                    max_length=7,
                    on_blur=SecondFactorState.check_code,
                    data_testid="mfa-code",
                    error=SecondFactorState.code_error,
                ),
                error_callout(SecondFactorState.error, testid="mfa-error"),
                submit_wide("绑定", loading=SecondFactorState.submitting, testid="mfa-bind"),
                spacing="3",
                width="100%",
            ),
            on_submit=SecondFactorState.submit,
            reset_on_submit=False,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _recovery() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "绑定成功。以下 10 个恢复码只显示这一次：手机丢失时每个可代替动态验证码登录一次。"
            "请抄写或打印后妥善保管。",
            icon="shield-check",
            color_scheme="green",
            width="100%",
        ),
        rx.grid(
            rx.foreach(
                SecondFactorState.recovery_codes,
                lambda code: rx.code(code, size="3", data_testid="mfa-recovery-code"),
            ),
            columns="2",
            spacing="2",
            width="100%",
        ),
        rx.button(
            "我已保存，继续",
            on_click=SecondFactorState.finish,
            size="3",
            width="100%",
            data_testid="mfa-done",
        ),
        spacing="3",
        width="100%",
    )


def second_factor_page() -> rx.Component:
    """Scan and bind, then the recovery codes once."""
    body = rx.cond(
        SecondFactorState.recovery_codes.length() > 0,
        _recovery(),
        rx.cond(
            SecondFactorState.bound,
            rx.text("此账号已绑定动态验证码。", data_testid="mfa-bound"),
            _scan(),
        ),
    )
    return rx.cond(
        SessionState.authenticated,
        card_page(
            brand("绑定动态验证码"),
            body,
            rx.hstack(
                rx.spacer(),
                rx.link("退出登录", on_click=SessionState.logout, size="2", href="#"),
                width="100%",
            ),
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
