"""The 对外访问白名单 card on 系统设置."""

from __future__ import annotations

import reflex as rx

from console.iam.outbound_state import OutboundState


def outbound_card() -> rx.Component:
    """The system administrator's list, with the fixed baseline beside it."""
    card = rx.card(
        rx.heading("对外访问白名单", size="4", margin_bottom="4px"),
        rx.text(
            "控制台（接口探测、测试连接、共享任务推送）默认只访问互联网公网地址；"
            "部门前置机等内网地址须在此列出（网段、地址或域名，.gov.cn 前加点表示含下级域名）。"
            "云平台元数据地址与过大的网段不能加入。",
            size="2",
            color_scheme="gray",
            margin_bottom="8px",
        ),
        rx.form(
            rx.vstack(
                rx.text_area(
                    name="entries",
                    default_value=OutboundState.entries,
                    key=OutboundState.entries,  # a reload shows what was saved
                    read_only=~OutboundState.can_write,
                    rows="3",
                    width="100%",
                    placeholder="如 10.20.0.0/16, 192.168.8.15, gab.example.gov.cn",
                    on_change=OutboundState.check,
                    data_testid="outbound-entries",
                ),
                rx.cond(
                    OutboundState.entries_error != "",
                    rx.text(
                        OutboundState.entries_error,
                        color_scheme="red",
                        size="2",
                        data_testid="outbound-error",
                    ),
                ),
                rx.hstack(
                    rx.text("部署时固定：", size="1", color_scheme="gray"),
                    rx.code(rx.cond(OutboundState.baseline != "", OutboundState.baseline, "无")),
                    rx.spacer(),
                    rx.text(OutboundState.updated, size="1", color_scheme="gray"),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    OutboundState.can_write,
                    rx.button(
                        "保存白名单",
                        type="submit",
                        size="2",
                        variant="soft",
                        data_testid="outbound-save",
                    ),
                    rx.text("仅系统管理员可以修改。", size="2", color_scheme="gray"),
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=OutboundState.save,
        ),
        width="100%",
        max_width="720px",
    )
    return rx.cond(OutboundState.visible, card)
