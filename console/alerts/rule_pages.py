"""运维监控 → 告警规则: rules, notification channels and maintenance windows."""

from __future__ import annotations

import reflex as rx

from console.alerts.channel_components import channel_dialogs, channels_card
from console.alerts.rule_components import rule_dialogs, rules_card, windows_card
from console.alerts.rule_state import RuleState
from console.ui.components import error_callout, page_heading
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("alert_rules")


def alert_rules_page() -> rx.Component:
    """The page."""
    body = rx.vstack(
        page_heading(
            SECTION.label,
            "何时告警（规则与参数）、通知谁（邮件、钉钉、企业微信、飞书、短信），"
            "以及计划维护时暂停通知；区县管理员管理本区县的规则与渠道",
        ),
        error_callout(RuleState.error),
        rules_card(),
        channels_card(),
        windows_card(),
        rule_dialogs(),
        channel_dialogs(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
