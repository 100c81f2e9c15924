"""State of 告警规则: the rules and their form, and the maintenance windows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import reflex as rx
from sqlmodel import Session

from console.alerts import channel_service as channels
from console.alerts import rule_service as service
from console.alerts.channel_state import PROVINCE, NotifyChannelState, scope_label
from console.alerts.kinds import BY_KEY, KINDS, defaults
from console.alerts.models import SEVERITIES
from console.core.actor import Actor
from console.core.clock import CHINA_TZ, utcnow
from console.ui.choice import Choice
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin

SEVERITY_CHOICES = list(SEVERITIES.items())
PROVINCE_ONLY = [kind.key for kind in KINDS if kind.province_only]
# The form's own fields and the labels ``rule_problems`` names them by.
_LABELS = {"name": "名称", "kind": "类型", "scope": "适用范围", "severity": "级别",
           "channels": "通知渠道", "escalate": "升级时间", "escalate_channels": "升级通知渠道",
           "quiet": "静默期"}  # fmt: skip
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what a datetime-local input holds (Beijing time here)


@dataclasses.dataclass(frozen=True)
class RuleView:
    """One rule as the table shows it."""

    id: int
    name: str
    kind_label: str
    scope: str
    params_text: str
    severity: str
    severity_label: str
    channels: str
    escalate: str
    quiet: int
    enabled: bool
    builtin: bool
    updated: str


@dataclasses.dataclass(frozen=True)
class ChannelChoice:
    """A channel a rule may notify: its id (as text), its name and scope, and whose it is."""

    value: str
    label: str
    tenant: str


@dataclasses.dataclass(frozen=True)
class Listing:
    """What one load of the rules fetches."""

    rules: list[service.RuleRow]
    channel_names: dict[int, str]
    scopes: list[tuple[str, str]]
    rights: dict[str, bool]


@dataclasses.dataclass(frozen=True)
class FormOptions:
    """What the rule form offers: the scopes and the enabled channels."""

    scopes: list[tuple[str, str]]
    channels: list[tuple[int, str, str]]


def _fetch(session: Session, actor: Actor) -> Listing:
    listed = channels.list_channels(session=session, actor=actor)
    return Listing(
        rules=service.list_rules(session=session, actor=actor),
        channel_names={c.id: c.name for c in listed},
        scopes=service.scope_choices(session=session, actor=actor),
        rights=service.permissions(actor),
    )


def _options(session: Session, actor: Actor) -> FormOptions:
    return FormOptions(
        scopes=service.scope_choices(session=session, actor=actor),
        channels=channels.channel_choices(session=session, actor=actor),
    )


def _escalation(rule: service.RuleRow, names: dict[int, str]) -> str:
    if not rule.escalate_minutes:
        return "不升级"
    to = "、".join(names.get(i, f"#{i}") for i in rule.escalate_channel_ids) or "—"
    return f"{rule.escalate_minutes} 分钟未确认：{to}"


def _view(rule: service.RuleRow, names: dict[int, str], scopes: dict[str, str]) -> RuleView:
    return RuleView(
        id=rule.id, name=rule.name, kind_label=rule.kind_label,
        scope=scope_label(rule.tenant, scopes), params_text=rule.params_text or "—",
        severity=rule.severity, severity_label=rule.severity_label, channels=rule.channels,
        escalate=_escalation(rule, names), quiet=rule.quiet_minutes, enabled=rule.enabled,
        builtin=rule.builtin, updated=rule.updated,
    )  # fmt: skip


def _scoped(options: list[ChannelChoice], scope: str) -> list[ChannelChoice]:
    """The channels a rule of ``scope`` may use: a county rule only its county's."""
    return options if scope == PROVINCE else [c for c in options if c.tenant == scope]


def _param_fields(kind: str) -> dict[str, str]:
    """Form field → label of each parameter of ``kind`` (fields are ``p_<name>``)."""
    found = BY_KEY.get(kind)
    return {f"p_{p.name}": p.label for p in found.params} if found else {}


class RuleState(PagedListMixin, FormMixin, rx.State):
    """告警规则: the list, the form with its live checks, 启用/停用 and 删除."""

    rows: list[RuleView] = []
    can_write: bool = False
    can_delete: bool = False
    province: bool = False  # may set 全省 rules
    scope_options: list[Choice] = []
    channel_options: list[ChannelChoice] = []

    rule_open: bool = False
    rule_id: int = 0
    rule_builtin: bool = False
    rule_kind: str = KINDS[0].key
    rule_scope: str = PROVINCE
    rule_severity: str = "major"
    rule_enabled: bool = True
    rule_channels: list[str] = []
    rule_escalate_channels: list[str] = []
    rule_form: dict[str, str] = {}  # starting values of the typed fields
    rule_errors: dict[str, str] = {}  # label → reason
    rule_error: str = ""
    form_seq: int = 0

    _rules: list[service.RuleRow] = []
    _typed: dict[str, str] = {}
    _touched: list[str] = []

    @rx.event(background=True)
    async def load(self):
        """Fetch the rules, then the channels and the windows (their own states)."""
        async for event in self._load_page(lambda: _fetch, self._show):
            yield event
        yield NotifyChannelState.load
        yield MaintenanceState.load

    @rx.event(background=True)
    async def load_rules(self):
        """Fetch the rules only (after a change to one)."""
        async for event in self._load_page(lambda: _fetch, self._show):
            yield event

    def _reload(self) -> rx.event.EventHandler:
        """After a change to a rule only the rules are fetched again."""
        return RuleState.load_rules

    def _show(self, listing: Listing) -> None:
        scopes = dict(listing.scopes)
        self._rules = list(listing.rules)
        self.rows = [_view(r, listing.channel_names, scopes) for r in listing.rules]
        self.total, self.pages = len(self.rows), 1
        self.can_write, self.can_delete = listing.rights["write"], listing.rights["delete"]
        self.province = bool(listing.scopes) and listing.scopes[0][0] == ""

    # ---- the form

    @rx.var
    def scope_fixed(self) -> bool:
        """The scope cannot be chosen: a county user, a province-only kind, a built-in rule."""
        return not self.province or self.rule_kind in PROVINCE_ONLY or self.rule_builtin

    @rx.var
    def scope_text(self) -> str:
        """The chosen scope's name."""
        found = next((o.label for o in self.scope_options if o.value == self.rule_scope), "")
        return found or ("全省" if self.rule_scope == PROVINCE else self.rule_scope)

    @rx.var
    def scoped_channels(self) -> list[ChannelChoice]:
        """Channels the rule may use: a county rule only its county's, a 全省 rule any."""
        return _scoped(self.channel_options, self.rule_scope)

    @rx.event(background=True)
    async def new_rule(self):
        """Open the form with the first kind's defaults."""
        async for event in self._open_with(_options, self._start_new):
            yield event

    def _start_new(self, options: FormOptions) -> None:
        self._offer(options)
        kind = KINDS[0]
        form = {"name": "", "escalate": "0", "quiet": "30"}
        form |= {f"p_{name}": value for name, value in defaults(kind).items()}
        scope = self.scope_options[0].value if self.scope_options else PROVINCE
        self._begin(0, False, kind.key, scope, form)
        self.rule_severity, self.rule_enabled = "major", True
        self.rule_channels, self.rule_escalate_channels = [], []

    @rx.event(background=True)
    async def edit_rule(self, rule_id: int):
        """Open the form with a rule as stored."""
        async with self:
            found = next((r for r in self._rules if r.id == rule_id), None)
        if found is None:
            return

        def show(options: FormOptions) -> None:
            self._offer(options)
            form = {"name": found.name, "escalate": str(found.escalate_minutes),
                    "quiet": str(found.quiet_minutes)}  # fmt: skip
            form |= {f"p_{name}": value for name, value in found.params.items()}
            self._begin(found.id, found.builtin, found.kind, found.tenant or PROVINCE, form)
            self.rule_severity, self.rule_enabled = found.severity, found.enabled
            self.rule_channels = [str(i) for i in found.channel_ids]
            self.rule_escalate_channels = [str(i) for i in found.escalate_channel_ids]

        async for event in self._open_with(_options, show):
            yield event

    def _offer(self, options: FormOptions) -> None:
        names = dict(options.scopes)
        self.scope_options = [Choice(code or PROVINCE, name) for code, name in options.scopes]
        self.channel_options = [
            ChannelChoice(str(cid), f"{name}（{scope_label(tenant, names)}）", tenant)
            for cid, name, tenant in options.channels
        ]

    def _begin(self, rule_id: int, builtin: bool, kind: str, scope: str, form: dict) -> None:
        self.rule_id, self.rule_builtin, self.rule_kind = rule_id, builtin, kind
        self.rule_scope, self.rule_form = scope, form
        self._typed, self._touched = {}, []
        self.rule_errors, self.rule_error = {}, ""
        self.form_seq += 1
        self.rule_open = True

    @rx.event
    def set_rule_kind(self, value: str) -> None:
        """Another kind: its parameters with their defaults (a 全省-only kind fixes the scope)."""
        kind = BY_KEY.get(value)
        if kind is None:
            return
        self.rule_kind = value
        stored = next((r for r in self._rules if r.id == self.rule_id and r.kind == value), None)
        values = stored.params if stored else defaults(kind)
        plain = {k: v for k, v in self.rule_form.items() if not k.startswith("p_")}
        self.rule_form = plain | {f"p_{name}": value for name, value in values.items()}
        self._typed = {k: v for k, v in self._typed.items() if not k.startswith("p_")}
        if kind.province_only:
            self.rule_scope = PROVINCE
            self._keep_scoped_channels()
        self._mark("kind")

    @rx.event
    def set_rule_scope(self, value: str) -> None:
        """全省 or a county: channels of another county are unticked."""
        self.rule_scope = value
        self._keep_scoped_channels()
        self._mark("scope")

    def _keep_scoped_channels(self) -> None:
        allowed = {c.value for c in _scoped(self.channel_options, self.rule_scope)}
        self.rule_channels = [i for i in self.rule_channels if i in allowed]
        self.rule_escalate_channels = [i for i in self.rule_escalate_channels if i in allowed]

    @rx.event
    def set_rule_severity(self, value: str) -> None:
        """级别."""
        self.rule_severity = value
        self._mark("severity")

    @rx.event
    def set_rule_enabled(self, value: bool) -> None:
        """启用 or not."""
        self.rule_enabled = bool(value)

    @rx.event
    def toggle_channel(self, which: str, channel_id: str, on: bool) -> None:
        """Tick or untick a channel of ``which`` list (``channels`` or ``escalate_channels``)."""
        name = "rule_escalate_channels" if which == "escalate_channels" else "rule_channels"
        chosen = [i for i in getattr(self, name) if i != channel_id]
        setattr(self, name, [*chosen, channel_id] if on else chosen)
        self._mark(which)

    @rx.event
    def check_rule(self, field: str, value: str) -> None:
        """Live check of the form as it is typed."""
        self._typed = {**self._typed, field: str(value)}
        self._mark(field)

    def _mark(self, field: str) -> None:
        """Remember ``field`` was touched, then show the problems of every touched field."""
        label = _LABELS.get(field) or _param_fields(self.rule_kind).get(field, field)
        touched = {*self._touched, label}
        if field in ("escalate", "escalate_channels"):
            touched |= {_LABELS["escalate"], _LABELS["escalate_channels"]}  # judged together
        self._touched = sorted(touched)
        problems = service.rule_problems(self._draft({}))
        self.rule_errors = {k: v for k, v in problems.items() if k in touched}
        if not problems:
            self.rule_error = ""

    def _draft(self, form: dict[str, str]) -> service.RuleDraft:
        values = {**self.rule_form, **self._typed, **_texts(form)}
        kind = BY_KEY.get(self.rule_kind)
        params = {p.name: values.get(f"p_{p.name}", "") for p in (kind.params if kind else ())}
        return service.RuleDraft(
            name=values.get("name", "").strip(),
            kind=self.rule_kind,
            tenant_code="" if self.rule_scope == PROVINCE else self.rule_scope,
            params=params,
            severity=self.rule_severity,
            channel_ids=tuple(int(i) for i in self.rule_channels),
            escalate_minutes=values.get("escalate", "").strip(),
            escalate_channel_ids=tuple(int(i) for i in self.rule_escalate_channels),
            quiet_minutes=values.get("quiet", "").strip(),
            enabled=self.rule_enabled,
        )

    @rx.event(background=True)
    async def save_rule(self, form: dict[str, str]):
        """Create or change the rule; refused with the field named."""
        async with self:
            draft, rule_id = self._draft(form), self.rule_id
            problems = service.rule_problems(draft)
            if problems:
                label, reason = next(iter(problems.items()))
                self.rule_errors, self.rule_error = problems, f"{label}：{reason}"
                return
        async for event in self._submit(
            lambda s, a: service.save_rule(
                session=s, actor=a, draft=draft, rule_id=rule_id or None
            ),
            dialog="rule",
            error="rule_error",
            success="告警规则已保存",
        ):
            yield event
        async with self:
            if self.rule_open and self.rule_error:  # refused: the field it names shows it too
                label, _, reason = self.rule_error.partition("：")
                self.rule_errors = {label: reason} if reason else {}

    # ---- the rows

    @rx.event(background=True)
    async def set_enabled(self, rule_id: int, enabled: bool):
        """启用 or 停用 a rule from its row."""
        async for event in self._act(
            lambda s, a: service.set_rule_enabled(
                session=s, actor=a, rule_id=rule_id, enabled=enabled
            ),
            "规则已启用" if enabled else "规则已停用，不再评估与通知",
        ):
            yield event

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        service.delete_rule(session=session, actor=actor, rule_id=int(key))

    def _deleted_text(self) -> str:
        return "告警规则已删除"


def _texts(form: dict) -> dict[str, str]:
    """The submitted form's text values."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


# ---- maintenance windows ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WindowView:
    """One maintenance window as listed."""

    id: int
    name: str
    scope: str
    starts: str
    ends: str
    reason: str
    by: str
    active: bool


@dataclasses.dataclass(frozen=True)
class WindowListing:
    """What one load of the windows fetches."""

    windows: list[service.WindowRow]
    scopes: list[tuple[str, str]]
    rights: dict[str, bool]


def _fetch_windows(session: Session, actor: Actor) -> WindowListing:
    return WindowListing(
        windows=service.list_windows(session=session, actor=actor),
        scopes=service.scope_choices(session=session, actor=actor),
        rights=service.permissions(actor),
    )


def local_input(moment: datetime) -> str:
    """``moment`` as a datetime-local input shows it, in Beijing time."""
    return moment.astimezone(CHINA_TZ).strftime(LOCAL_INPUT)


def parse_local(text: str) -> datetime | None:
    """A datetime-local value (Beijing time) as an aware UTC moment, or None."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=CHINA_TZ).astimezone(UTC)


class MaintenanceState(PagedListMixin, FormMixin, rx.State):
    """维护窗口: alerts recorded, nobody messaged; planned ahead or ended early."""

    rows: list[WindowView] = []
    can_write: bool = False
    province: bool = False
    scope_options: list[Choice] = []
    window_open: bool = False
    window_scope: str = PROVINCE
    window_form: dict[str, str] = {}
    window_errors: dict[str, str] = {}
    window_error: str = ""

    @rx.event(background=True)
    async def load(self):
        """Fetch the windows not yet over."""
        async for event in self._load_page(lambda: _fetch_windows, self._show):
            yield event

    def _show(self, listing: WindowListing) -> None:
        names = {code or "全省": name for code, name in listing.scopes}
        self.rows = [
            WindowView(w.id, w.name, names.get(w.tenant, w.tenant), w.starts, w.ends,
                       w.reason or "—", w.by, w.active)
            for w in listing.windows
        ]  # fmt: skip
        self.total, self.pages = len(self.rows), 1
        self.can_write = listing.rights["write"]
        self.province = bool(listing.scopes) and listing.scopes[0][0] == ""
        self.scope_options = [Choice(code or PROVINCE, name) for code, name in listing.scopes]

    @rx.event
    def new_window(self) -> None:
        """Open the form: from now for two hours."""
        now = utcnow()
        self.window_form = {
            "starts": local_input(now),
            "ends": local_input(now + timedelta(hours=2)),
        }
        self.window_scope = self.scope_options[0].value if self.scope_options else PROVINCE
        self.window_errors, self.window_error, self.window_open = {}, "", True

    @rx.event
    def set_window_scope(self, value: str) -> None:
        """全省 or a county."""
        self.window_scope = value

    @rx.event(background=True)
    async def save_window(self, form: dict[str, str]):
        """Plan the window (times typed in Beijing time)."""
        starts, ends = parse_local(form.get("starts", "")), parse_local(form.get("ends", ""))
        problems: dict[str, str] = {}
        if starts is None:
            problems["开始时间"] = "请填写开始时间"
        if ends is None:
            problems["结束时间"] = "请填写结束时间"
        async with self:
            scope = "" if self.window_scope == PROVINCE else self.window_scope
            self.window_errors = problems
        if starts is None or ends is None:
            return
        name, reason = form.get("name", ""), form.get("reason", "")
        async for event in self._submit(
            lambda s, a: service.save_window(
                session=s,
                actor=a,
                name=name,
                tenant_code=scope,
                starts_at=starts,
                ends_at=ends,
                reason=reason,
            ),
            dialog="window",
            error="window_error",
            success="维护窗口已保存：窗口内的告警照常记录，但不发送通知",
        ):
            yield event
        async with self:
            if self.window_open and self.window_error:
                label, _, reason_text = self.window_error.partition("：")
                self.window_errors = {label: reason_text} if reason_text else {}

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        service.end_window(session=session, actor=actor, window_id=int(key))

    def _deleted_text(self) -> str:
        return "维护窗口已结束"
