"""数据字典 page: dictionaries on the left, searchable items on the right."""

from __future__ import annotations

import reflex as rx

from console.dictionaries.state import DictionaryState, HistoryView, ItemView, TypeView
from console.ui.components import error_callout, labelled, list_table, page_heading
from console.ui.navigation import section_by_key
from console.ui.shell import shell

SECTION = section_by_key("dictionaries")
COLUMNS = ("代码", "名称", "上级代码", "状态", "失效日期", "说明", "操作")


def _type_item(dict_type: TypeView) -> rx.Component:
    active = DictionaryState.type_code == dict_type.code
    return rx.button(
        rx.hstack(
            rx.text(dict_type.name),
            rx.spacer(),
            rx.badge(dict_type.count, variant="soft"),
            width="100%",
        ),
        variant=rx.cond(active, "solid", "ghost"),
        width="100%",
        on_click=DictionaryState.choose_type(dict_type.code),
        data_testid=f"dict-type-{dict_type.code}",
    )


def _row(item: ItemView) -> rx.Component:
    actions = rx.cond(
        DictionaryState.can_write,
        rx.hstack(
            rx.button(
                "编辑", size="1", variant="soft", on_click=DictionaryState.open_edit(item.id)
            ),
            rx.button(
                rx.cond(item.enabled, "停用", "启用"),
                size="1",
                variant="soft",
                color_scheme=rx.cond(item.enabled, "red", "green"),
                on_click=DictionaryState.toggle(item.id, ~item.enabled),
                data_testid=f"dict-toggle-{item.code}",
            ),
            rx.button(
                "历史",
                size="1",
                variant="ghost",
                on_click=DictionaryState.show_history(item.id, item.code),
            ),
        ),
        rx.button(
            "历史",
            size="1",
            variant="ghost",
            on_click=DictionaryState.show_history(item.id, item.code),
        ),
    )
    return rx.table.row(
        rx.table.cell(rx.code(item.code)),
        rx.table.cell(
            rx.hstack(rx.text(item.label), rx.cond(item.local, rx.badge("本地", variant="outline")))
        ),
        rx.table.cell(item.parent_code),
        rx.table.cell(
            rx.cond(
                item.enabled,
                rx.badge("启用", color_scheme="green"),
                rx.badge("停用", color_scheme="gray"),
            )
        ),
        rx.table.cell(item.valid_to),
        rx.table.cell(rx.text(item.remark, size="1", color_scheme="gray")),
        rx.table.cell(actions),
        data_testid=f"dict-row-{item.code}",
    )


def _editor() -> rx.Component:
    adding = DictionaryState.edit_id == 0
    form = rx.form(
        rx.vstack(
            labelled(
                "代码",
                rx.input(
                    name="code",
                    default_value=DictionaryState.edit_code,
                    read_only=~adding,
                    width="100%",
                    data_testid="dict-code",
                ),
            ),
            labelled(
                "名称",
                rx.input(
                    name="label",
                    default_value=DictionaryState.edit_label,
                    width="100%",
                    data_testid="dict-label",
                ),
            ),
            labelled(
                "上级代码（分层字典）",
                rx.input(
                    name="parent_code", default_value=DictionaryState.edit_parent, width="100%"
                ),
            ),
            labelled(
                "说明",
                rx.input(name="remark", default_value=DictionaryState.edit_remark, width="100%"),
            ),
            error_callout(DictionaryState.edit_error, testid="dict-error"),
            rx.hstack(
                rx.dialog.close(rx.button("取消", variant="soft", type="button")),
                rx.button("保存", type="submit", data_testid="dict-save"),
                justify="end",
                width="100%",
            ),
            spacing="3",
        ),
        on_submit=DictionaryState.save,
    )
    title = rx.cond(
        adding, rx.cond(DictionaryState.edit_local, "新增本地字典项", "新增字典项"), "编辑字典项"
    )
    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title(title), form, max_width="480px"),
        open=DictionaryState.edit_open,
        on_open_change=DictionaryState.set_edit_open,
    )


def _history_row(entry: HistoryView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(entry.time),
        rx.table.cell(entry.actor),
        rx.table.cell(entry.action),
        rx.table.cell(rx.code(entry.before, size="1")),
        rx.table.cell(rx.code(entry.after, size="1")),
    )


def _history_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("变更历史：", DictionaryState.history_code),
            rx.scroll_area(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(c)
                                for c in ("时间", "操作人", "操作", "修改前", "修改后")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(DictionaryState.history, _history_row)),
                    size="1",
                ),
                max_height="60vh",
                type="auto",
            ),
            rx.hstack(
                rx.dialog.close(rx.button("关闭", variant="soft")), justify="end", margin_top="12px"
            ),
            max_width="900px",
        ),
        open=DictionaryState.history_open,
        on_open_change=DictionaryState.set_history_open,
    )


def dictionaries_page() -> rx.Component:
    """The page."""
    toolbar = rx.hstack(
        rx.form(
            rx.hstack(
                rx.input(
                    name="keyword",
                    placeholder="代码或名称，如：西湖",
                    width="240px",
                    data_testid="dict-search",
                ),
                rx.button(rx.icon("search", size=14), "查询", type="submit", variant="soft"),
            ),
            on_submit=DictionaryState.search,
        ),
        rx.spacer(),
        rx.cond(
            DictionaryState.can_write & DictionaryState.extensible,
            rx.button(
                "新增本地项",
                variant="soft",
                on_click=DictionaryState.open_add(True),
                data_testid="dict-add-local",
            ),
        ),
        rx.cond(
            DictionaryState.can_write,
            rx.button(
                rx.icon("plus", size=14),
                "新增",
                on_click=DictionaryState.open_add(False),
                data_testid="dict-add",
            ),
        ),
        width="100%",
    )
    items = rx.vstack(
        rx.heading(DictionaryState.type_name, size="4"),
        rx.text(DictionaryState.type_source, size="1", color_scheme="gray"),
        toolbar,
        error_callout(DictionaryState.error),
        list_table(
            DictionaryState,
            COLUMNS,
            _row,
            size="1",
            empty=("没有符合条件的字典项", "换一个关键词，或点击「新增」。"),
        ),
        width="100%",
        spacing="3",
    )
    body = rx.vstack(
        page_heading(SECTION.label, "行政区划与国家登记代码；各页面从这里取值"),
        rx.hstack(
            rx.vstack(
                rx.foreach(DictionaryState.types, _type_item),
                width="220px",
                min_width="220px",
                spacing="1",
            ),
            items,
            align="start",
            spacing="5",
            width="100%",
        ),
        _editor(),
        _history_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
