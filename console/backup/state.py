"""State of 备份与恢复: targets, schedule and retention, the run history, 立即备份 / 立即校验."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx
from sqlmodel import Session

from console.authz.service import can
from console.backup import settings_service as service
from console.core.actor import Actor
from console.core.paging import PageRequest
from console.ui.actions import call
from console.ui.effects_state import toast
from console.ui.form_state import FormMixin
from console.ui.list_state import PagedListMixin

PAGE_SIZE = 20
FOLLOW_SECONDS = 3
FOLLOW_ROUNDS = 400  # 20 minutes of following a run that was asked for here
KIND_FILTERS = [("*", "全部类型"), *service.RUN_KINDS.items()]
OUTCOME_FILTERS = [("*", "全部结果"), *service.OUTCOMES.items()]


@dataclasses.dataclass(frozen=True)
class CheckView:
    """One check of a verification."""

    name: str
    passed: bool
    detail: str


# The service's rows are display rows already: the page shows them as they are.
RunView = service.RunRow
TargetView = service.TargetRow


@dataclasses.dataclass(frozen=True)
class Listing:
    """What one load fetches."""

    targets: list[service.TargetRow]
    policy: service.PolicyView
    runs: list[RunView]
    total: int
    pages: int
    overview: service.Overview
    can_write: bool
    can_execute: bool


def fetch(kind: str, outcome: str, page: int):
    """The page's read as one service call (``*`` = no filter)."""

    def read(session: Session, actor: Actor) -> Listing:
        overview = service.overview(session=session, actor=actor)
        runs = service.list_runs(
            session=session,
            actor=actor,
            request=PageRequest(page, PAGE_SIZE),
            kind="" if kind == "*" else kind,
            outcome="" if outcome == "*" else outcome,
        )
        return Listing(
            targets=service.list_targets(session=session, actor=actor),
            policy=service.read_policy(session=session, actor=actor),
            runs=list(runs.items),
            total=runs.total,
            pages=runs.pages,
            overview=overview,
            can_write=can(actor, service.OBJ, "write"),
            can_execute=can(actor, service.OBJ, "execute"),
        )

    return read


class BackupState(PagedListMixin, FormMixin, rx.State):
    """备份与恢复."""

    rows: list[RunView] = []
    targets: list[TargetView] = []
    kind_filter: str = "*"
    outcome_filter: str = "*"
    can_write: bool = False
    can_execute: bool = False
    passphrase_ready: bool = False
    passphrase_problem: str = ""
    running: bool = False
    verified_text: str = ""
    checks: list[CheckView] = []

    cron: str = ""
    keep_daily: str = "7"
    keep_weekly: str = "4"
    keep_monthly: str = "12"
    next_run: str = ""
    policy_errors: dict[str, str] = {}

    target_open: bool = False
    target_id: int = 0
    target_kind: str = "directory"
    target_errors: dict[str, str] = {}
    target_form: dict[str, str] = {}
    has_secret: bool = False

    confirm_open: bool = False
    confirm_kind: str = ""
    _following: bool = False

    def _show(self, listing: Listing) -> None:
        self.targets = list(listing.targets)
        self.rows = list(listing.runs)
        self.total, self.pages = listing.total, listing.pages
        self.can_write, self.can_execute = listing.can_write, listing.can_execute
        ready = listing.overview
        self.passphrase_ready, self.passphrase_problem = (
            ready.passphrase_ready,
            ready.passphrase_problem,
        )
        self.running = ready.running
        verified = ready.last_verified
        if verified is None:
            self.verified_text, self.checks = "", []
        else:
            self.verified_text = f"{verified.started}，备份集 {verified.set_id}（{verified.size}）"
            self.checks = [
                CheckView(c["name"], bool(c["passed"]), c["detail"]) for c in ready.last_checks
            ]
        policy = listing.policy
        self.cron, self.next_run = policy.cron, policy.next_run
        self.keep_daily, self.keep_weekly = str(policy.keep_daily), str(policy.keep_weekly)
        self.keep_monthly = str(policy.keep_monthly)

    @rx.event(background=True)
    async def load(self):
        """Fetch targets, the policy, the overview and the current page of runs."""

        def prepare():
            return fetch(self.kind_filter, self.outcome_filter, self.page)

        async for event in self._load_page(prepare, self._show_and_follow):
            yield event

    def _show_and_follow(self, listing: Listing) -> rx.event.EventSpec | None:
        """Show, and keep refreshing while a run (scheduled or asked for) is on."""
        self._show(listing)
        if self.running and not self._following:
            return BackupState.follow
        return None

    @rx.event
    def set_kind_filter(self, value: str):
        """Only one kind of run."""
        self.kind_filter, self.page = value, 1
        return BackupState.load

    @rx.event
    def set_outcome_filter(self, value: str):
        """Only runs with one outcome."""
        self.outcome_filter, self.page = value, 1
        return BackupState.load

    # ---- schedule and retention

    @rx.event
    def check_policy(self, field: str, value: str) -> None:
        """Live check of the schedule form as it is typed."""
        values = {"cron": self.cron, "daily": self.keep_daily, "weekly": self.keep_weekly,
                  "monthly": self.keep_monthly, field: value}  # fmt: skip
        self.policy_errors = _policy_problems(values)

    @rx.event(background=True)
    async def save_policy(self, form: dict[str, str]):
        """Save the schedule and the retention."""
        problems = _policy_problems(form)
        if problems:
            async with self:
                self.policy_errors = problems
            return
        cron = form.get("cron", "").strip()
        daily, weekly, monthly = (int(form.get(k, "0")) for k in ("daily", "weekly", "monthly"))
        outcome = await self._call(
            lambda s, a: service.save_policy(
                session=s, actor=a, cron=cron, daily=daily, weekly=weekly, monthly=monthly
            )
        )
        if not outcome.ok:
            yield toast.error(outcome.error_text)
            return
        async with self:
            self.policy_errors = {}
        yield toast.success("备份计划与保留策略已保存")
        yield BackupState.load

    # ---- targets

    @rx.event
    def new_target(self) -> None:
        """Open the form empty."""
        self.target_id, self.target_kind, self.has_secret = 0, "directory", False
        self.target_form, self.target_errors, self.target_open = {}, {}, True

    @rx.event
    def edit_target(self, target_id: int) -> None:
        """Open the form with a target (its secret is never sent to the browser)."""
        found = next((t for t in self.targets if t.id == target_id), None)
        if found is None:
            return
        self.target_id, self.target_kind, self.has_secret = found.id, found.kind, found.has_secret
        self.target_form = {
            "name": found.name, "location": found.location, "endpoint": found.endpoint,
            "region": found.region, "access_key": found.access_key,
            "enabled": "on" if found.enabled else "",
            "live": "on" if found.live else "",
        }  # fmt: skip
        self.target_errors, self.target_open = {}, True

    @rx.event
    def set_target_kind(self, value: str) -> None:
        """Directory or object storage: the form shows that kind's fields."""
        self.target_kind = value
        self.target_errors = {}

    @rx.event
    def check_target(self, field: str, value: str) -> None:
        """Live check of one field as it is typed."""
        self.target_form = {**self.target_form, field: value}
        problems = service.target_problems(_draft(self.target_form, self.target_kind))
        label = _TARGET_LABELS.get(field, "")
        self.target_errors = {
            k: v for k, v in problems.items() if k == label or k in self.target_errors
        }

    @rx.event(background=True)
    async def save_target(self, form: dict[str, str]):
        """Create or change a target."""
        async with self:
            kind, target_id = self.target_kind, self.target_id
        draft = _draft(form, kind)
        problems = service.target_problems(draft)
        if problems:
            async with self:
                self.target_errors = problems
            return
        outcome = await self._call(
            lambda s, a: service.save_target(
                session=s, actor=a, draft=draft, target_id=target_id or None
            )
        )
        if not outcome.ok:
            async with self:
                self.target_errors = {"form": outcome.error_text}
            return
        async with self:
            self.target_open, self.target_errors = False, {}
        yield toast.success("备份目标已保存")
        yield BackupState.load

    def _delete_one(self, session: Session, actor: Actor, key: str) -> None:
        service.delete_target(session=session, actor=actor, target_id=int(key))

    def _deleted_text(self) -> str:
        return "备份目标已移除（已写入该目标的备份集保留在原处）"

    # ---- 立即备份 / 立即校验

    @rx.event
    def ask(self, kind: str) -> None:
        """Confirm before starting a run."""
        self.confirm_kind, self.confirm_open = kind, True

    @rx.event
    def set_confirm_open(self, value: bool) -> None:
        """Close the confirmation."""
        self.confirm_open = value

    @rx.event(background=True)
    async def run_now(self):
        """Ask the scheduler's leader to start the confirmed run."""
        async with self:
            kind, self.confirm_open = self.confirm_kind, False
        label = "立即备份" if kind == "backup" else "立即校验"
        async for event in self._act(
            lambda s, a: service.request_now(session=s, actor=a, kind=kind),
            f"已提交{label}，调度器将在一分钟内开始；进度显示在运行记录中",
        ):
            yield event
        yield BackupState.follow

    @rx.event(background=True)
    async def follow(self):
        """Refresh while a run waits or runs, so its progress and end show without a click."""
        async with self:
            if self._following:
                return
            self._following = True
        try:
            await self._follow_rounds()
        finally:
            async with self:
                self._following = False

    async def _follow_rounds(self) -> None:
        for _ in range(FOLLOW_ROUNDS):
            await asyncio.sleep(FOLLOW_SECONDS)
            async with self:
                if not self.router.url.path.startswith("/system-backup"):
                    return
                token = await self._token()
                read = fetch(self.kind_filter, self.outcome_filter, self.page)
            outcome = await call(token, read)
            if not outcome.ok:
                return
            async with self:
                self._show(outcome.value)
                if not self.running:
                    return


_TARGET_LABELS = {"name": "名称", "location": "位置", "endpoint": "服务地址",
                  "access_key": "访问密钥"}  # fmt: skip


def _draft(form: dict[str, str], kind: str) -> service.TargetDraft:
    return service.TargetDraft(
        name=form.get("name", "").strip(),
        kind=kind,
        location=form.get("location", "").strip(),
        endpoint=form.get("endpoint", "").strip(),
        region=form.get("region", "").strip() or "us-east-1",
        access_key=form.get("access_key", "").strip(),
        secret=form.get("secret", ""),
        enabled=form.get("enabled", "") in {"on", "true", "1"},
        live=form.get("live", "") in {"on", "true", "1"},
    )


def _policy_problems(values: dict[str, str]) -> dict[str, str]:
    numbers = {}
    problems = {}
    for field, label in (
        ("daily", "保留日备份"),
        ("weekly", "保留周备份"),
        ("monthly", "保留月备份"),
    ):
        text = str(values.get(field, "")).strip()
        if not text.isdigit():
            problems[label] = "请填写整数"
        numbers[field] = int(text) if text.isdigit() else 0
    found = service.policy_problems(
        str(values.get("cron", "")).strip(), numbers["daily"], numbers["weekly"], numbers["monthly"]
    )
    return {**found, **problems}
