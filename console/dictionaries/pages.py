"""数据字典 page: dictionaries on the left, searchable items on the right."""

from __future__ import annotations

import reflex as rx

from console.core.exporting import XLSX_MIME
from console.dictionaries.state import (
    ChangeView,
    Crumb,
    DictionaryState,
    HistoryView,
    ItemView,
    ProblemView,
    TypeView,
)
from console.ui.components import (
    close_footer,
    create_button,
    error_callout,
    export_menu,
    file_picker,
    labelled,
    list_table,
    page_heading,
    scroll_table,
    search_box,
)
from console.ui.navigation import section_by_key
from console.ui.shell import shell
from console.ui.widgets import (
    action_button,
    delete_button,
    delete_confirm,
    dialog,
    dropdown,
    enabled_badge,
    field,
    form_dialog,
    row_button,
    submit_button,
    table_row,
    toggle_button,
    toolbar,
    upload_bar,
)

SECTION = section_by_key("dictionaries")
COLUMNS = ("代码", "名称", "上级 / 所属类别", "状态", "失效日期", "说明", "操作")
IMPORT_UPLOAD = "dict_import_upload"


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


def _history_button(item: ItemView) -> rx.Component:
    return row_button("历史", DictionaryState.show_history(item.id, item.code), variant="ghost")


def _row(item: ItemView) -> rx.Component:
    actions = rx.cond(
        DictionaryState.can_write,
        rx.hstack(
            row_button("编辑", DictionaryState.open_edit(item.id)),
            toggle_button(
                item.enabled,
                DictionaryState.toggle(item.id, ~item.enabled),
                variant="soft",
                testid=f"dict-toggle-{item.code}",
            ),
            _history_button(item),
            delete_button(
                DictionaryState.ask_delete(item.id.to_string(), item.label),
                allowed=DictionaryState.can_delete & ~item.builtin,
                variant="ghost",
                testid=f"dict-delete-{item.code}",
            ),
        ),
        _history_button(item),
    )
    label = rx.hstack(
        rx.cond(
            item.children > 0,
            rx.link(
                item.label,
                " ›",
                href="#",
                on_click=DictionaryState.open_children(item.code, item.label),
                data_testid=f"dict-open-{item.code}",
            ),
            rx.text(item.label),
        ),
        rx.cond(item.children > 0, rx.badge(item.children, variant="soft", size="1")),
        rx.cond(item.local, rx.badge("本地", variant="outline")),
    )
    return table_row(
        rx.code(item.code),
        label,
        rx.cond(
            item.category != "",
            rx.tooltip(rx.text(item.category_label, size="2"), content=item.category),
            rx.text(item.parent_code, size="2"),
        ),
        enabled_badge(item.enabled),
        item.valid_to,
        rx.text(item.remark, size="1", color_scheme="gray"),
        actions,
        data_testid=f"dict-row-{item.code}",
    )


def _editor() -> rx.Component:
    adding = DictionaryState.edit_id == 0
    title = rx.cond(
        adding, rx.cond(DictionaryState.edit_local, "新增本地字典项", "新增字典项"), "编辑字典项"
    )
    return form_dialog(
        DictionaryState,
        "edit",
        title,
        field(
            "代码",
            "code",
            default_value=DictionaryState.edit_code,
            read_only=~adding,
            on_change=DictionaryState.check_code.debounce(300),
            data_testid="dict-code",
            error=DictionaryState.code_error,
        ),
        field(
            "名称",
            "label",
            default_value=DictionaryState.edit_label,
            on_change=DictionaryState.check_label.debounce(300),
            data_testid="dict-label",
            error=DictionaryState.label_error,
        ),
        field("上级代码（分层字典）", "parent_code", default_value=DictionaryState.edit_parent),
        rx.cond(
            DictionaryState.category_name != "",
            labelled(
                "所属类别（业务代码所属的登记类型，统计按它归类）",
                dropdown(
                    DictionaryState.category_options,
                    name="category",
                    default_value=DictionaryState.edit_category,
                    placeholder="请选择",
                    testid="dict-category",
                    width="100%",
                ),
            ),
        ),
        field("说明", "remark", default_value=DictionaryState.edit_remark),
        error_callout(DictionaryState.edit_error, testid="dict-error"),
        on_submit=DictionaryState.save,
        submit=submit_button("保存", "dict-save"),
        max_width="480px",
    )


def _history_row(entry: HistoryView) -> rx.Component:
    return table_row(
        entry.time,
        entry.actor,
        entry.action,
        rx.code(entry.before, size="1"),
        rx.code(entry.after, size="1"),
    )


def _history_dialog() -> rx.Component:
    return dialog(
        DictionaryState,
        "history",
        ("变更历史：", DictionaryState.history_code),
        scroll_table(
            ("时间", "操作人", "操作", "修改前", "修改后"),
            DictionaryState.history,
            _history_row,
            testid="dict-history",
            max_height="60vh",
        ),
        close_footer(),
        max_width="900px",
    )


def _crumb(crumb: Crumb, index: rx.Var[int]) -> rx.Component:
    return rx.hstack(
        rx.text("/", color_scheme="gray"),
        rx.link(crumb.label, href="#", on_click=DictionaryState.go_up(index + 1)),
        spacing="2",
    )


def _breadcrumbs() -> rx.Component:
    """Where in the tree the table is (for hierarchical dictionaries, when not searching)."""
    return rx.cond(
        DictionaryState.crumbs.length() > 0,
        rx.hstack(
            rx.link("全部", href="#", on_click=DictionaryState.go_up(0)),
            rx.foreach(DictionaryState.crumbs, _crumb),
            spacing="2",
            data_testid="dict-crumbs",
        ),
    )


def _problem_row(problem: ProblemView) -> rx.Component:
    return table_row(problem.line, problem.code, rx.text(problem.reason, color="var(--red-11)"))


def _change_row(change: ChangeView) -> rx.Component:
    return table_row(
        change.line,
        rx.badge(change.kind, variant="soft"),
        change.code,
        change.label,
        change.fields,
    )


def _import_dialog() -> rx.Component:
    picker = file_picker(
        IMPORT_UPLOAD,
        "拖入或点击选择 CSV / XLSX 文件",
        {"text/csv": [".csv"], XLSX_MIME: [".xlsx"]},
        "dict-import-file",
    )
    preview = rx.vstack(
        rx.cond(
            DictionaryState.import_problems.length() > 0,
            rx.vstack(
                rx.text("以下行有错误，改正后重新选择文件；在此之前不会导入任何内容：", size="2"),
                scroll_table(
                    ("行", "代码", "原因"),
                    DictionaryState.import_problems,
                    _problem_row,
                    testid="dict-import-problems",
                    max_height="30vh",
                ),
                width="100%",
            ),
        ),
        rx.cond(
            DictionaryState.import_changes.length() > 0,
            rx.vstack(
                rx.text("将要做的修改：", size="2"),
                scroll_table(
                    ("行", "操作", "代码", "名称", "修改的字段"),
                    DictionaryState.import_changes,
                    _change_row,
                    testid="dict-import-changes",
                    max_height="30vh",
                ),
                rx.cond(
                    DictionaryState.import_hidden > 0,
                    rx.text(
                        "另有 ",
                        DictionaryState.import_hidden,
                        " 项未列出",
                        size="1",
                        color_scheme="gray",
                    ),
                ),
                width="100%",
            ),
        ),
        width="100%",
    )
    return dialog(
        DictionaryState,
        "import",
        ("导入：", DictionaryState.type_name),
        rx.text(
            "列：代码、名称、上级代码、排序、状态（启用/停用）、生效日期、失效日期、说明；"
            "导出的文件可直接作模板。先逐行检查并预览，确认后一次性全部生效，有任何错误则不导入。"
            "文件中没有的字典项保持不变。",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            DictionaryState.extensible,
            rx.hstack(
                rx.switch(
                    checked=DictionaryState.import_local,
                    on_change=DictionaryState.set_import_local,
                ),
                rx.text("导入为本租户的本地字典项", size="2"),
                margin_y="8px",
            ),
        ),
        picker,
        upload_bar(
            DictionaryState.import_running,
            DictionaryState.import_summary,
            rx.button(
                "检查并预览",
                variant="soft",
                loading=DictionaryState.import_running,
                on_click=DictionaryState.upload_import(rx.upload_files(upload_id=IMPORT_UPLOAD)),
                data_testid="dict-import-preview",
            ),
            rx.button(
                "确认导入",
                disabled=~DictionaryState.import_ready,
                loading=DictionaryState.import_running,
                on_click=DictionaryState.confirm_import,
                data_testid="dict-import-apply",
            ),
            testid="dict-import-summary",
            cancel="取消",
        ),
        preview,
        max_width="860px",
        on_open_change=DictionaryState.set_import_open,
    )


def _delete_dialog() -> rx.Component:
    return delete_confirm(
        DictionaryState,
        "删除字典项",
        "确定删除「",
        "」？内置项或仍在使用的项（有下级、被租户使用）不能删除，只能停用。删除记入操作日志。",
        testid="dict-delete-confirm",
    )


def dictionaries_page() -> rx.Component:
    """The page."""
    actions = toolbar(
        search_box(DictionaryState.search, "代码或名称，如：西湖", "dict-search"),
        end=[
            rx.cond(
                DictionaryState.can_export,
                export_menu(
                    (("xlsx", "Excel（XLSX）"), ("csv", "CSV")),
                    DictionaryState.export,
                    loading=DictionaryState.exporting,
                    testid="dict-export",
                ),
            ),
            action_button(
                "导入",
                DictionaryState.set_import_open(True),
                allowed=DictionaryState.can_write,
                icon="upload",
                testid="dict-import",
            ),
            action_button(
                "新增本地项",
                DictionaryState.open_add(True),
                allowed=DictionaryState.can_write & DictionaryState.extensible,
                testid="dict-add-local",
            ),
            create_button(
                DictionaryState.can_write, "新增", DictionaryState.open_add(False), "dict-add"
            ),
        ],
    )
    items = rx.vstack(
        rx.heading(DictionaryState.type_name, size="4"),
        rx.text(DictionaryState.type_source, size="1", color_scheme="gray"),
        actions,
        _breadcrumbs(),
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
        _import_dialog(),
        _delete_dialog(),
        spacing="4",
        width="100%",
    )
    return shell(body, title=SECTION.label, section=SECTION)
