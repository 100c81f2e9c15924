"""One look for every page: colours, spacing and fonts in one place."""

SIDEBAR_WIDTH = "232px"
HEADER_HEIGHT = "56px"
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    "system-ui, sans-serif"
)
SIDEBAR_BG = "#0f1e3d"
SIDEBAR_TEXT = "#c7d2e8"
SIDEBAR_ACTIVE_BG = "#1f3a73"
PAGE_BG = "var(--gray-2)"

APP_STYLE = {
    "font_family": FONT_STACK,
    "background_color": PAGE_BG,
}
PRODUCT_NAME = "不动产登记运维监管平台"
