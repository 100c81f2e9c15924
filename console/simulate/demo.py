"""Demo province: a few counties, their organisations, and one account per built-in role."""

from __future__ import annotations

from sqlmodel import Session, select

from console.core.settings import get_settings
from console.iam.models import Organization, Role, User
from console.iam.passwords import generate_password, hash_password
from console.iam.user_service import UserDraft, insert_user
from console.interfaces.models import Channel, InterfaceDef
from console.tenancy.models import Tenant

# Real 杭州 district codes (GB/T 2260) for a 浙江 demo; other provinces get their prefix.
DEMO_COUNTIES = (("0106", "西湖区"), ("0108", "滨江区"), ("0110", "余杭区"))
DEMO_ORGS = (
    ("不动产登记中心", "registry", None),
    ("公安分局", "sharing_dept", None),
    ("中国银行支行", "bank", "91350100M000100Y43"),
)
PROVINCE_ROLES = {"sys_admin", "sec_admin", "audit_admin", "province_supervisor"}
DEMO_NAMES = (
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周杰",
    "吴婷",
    "徐明",
)


def _county_code(suffix: str) -> str:
    return get_settings().province_code[:2] + suffix


def seed_demo(session: Session) -> list[tuple[str, str, str]]:
    """Create what is missing; return (account, role name, one-time password) of new accounts."""
    province = get_settings().province_code
    first_county = _county_code(DEMO_COUNTIES[0][0])
    for suffix, name in DEMO_COUNTIES:
        code = _county_code(suffix)
        if session.get(Tenant, code) is None:
            session.add(Tenant(code=code, name=name, parent_code=province))
            session.flush()
            for org_name, kind, uscc in DEMO_ORGS:
                session.add(
                    Organization(tenant_code=code, name=f"{name}{org_name}", kind=kind, uscc=uscc)
                )
    session.flush()
    _seed_demo_channels_and_systems(session)
    registry_of = {
        org.tenant_code: org.id
        for org in session.exec(select(Organization).where(Organization.kind == "registry")).all()
    }
    created = []
    roles = session.exec(select(Role).where(Role.builtin).order_by(Role.id)).all()  # type: ignore[arg-type]
    for index, role in enumerate(roles):
        if role.code in {"sys_admin", "sec_admin", "audit_admin"}:
            continue  # the three administrators are created by init
        account = f"demo_{role.code}"
        if session.exec(select(User).where(User.account == account)).first():
            continue
        tenant = province if role.code in PROVINCE_ROLES else first_county
        password = generate_password()
        draft = UserDraft(
            account=account,
            real_name=DEMO_NAMES[index % len(DEMO_NAMES)],
            tenant_code=tenant,
            roles=(role.code,),
            post=role.name,
            org_id=None if tenant == province else registry_of.get(tenant),
        )
        insert_user(session, draft, password_hash=hash_password(password))
        created.append((account, role.name, password))
    return created


def _seed_demo_channels_and_systems(session: Session) -> None:
    """Each demo county's registration system (inbound) and an open channel for its bank."""
    for suffix, name in DEMO_COUNTIES:
        code = _county_code(suffix)
        system_code = f"reg.{code}"
        if (
            session.exec(select(InterfaceDef).where(InterfaceDef.code == system_code)).first()
            is None
        ):
            session.add(
                InterfaceDef(
                    code=system_code,
                    name=f"{name}不动产登记系统",
                    direction="inbound",
                    tenant_code=code,
                    department="不动产登记系统",
                    description="推送操作日志、接口调用日志、异常与办件进度",
                )
            )
        banks = session.exec(
            select(Organization).where(
                Organization.tenant_code == code, Organization.kind == "bank"
            )
        ).all()
        for bank in banks:
            if session.exec(select(Channel).where(Channel.org_id == bank.id)).first() is None:
                session.add(
                    Channel(
                        tenant_code=code,
                        org_id=bank.id,
                        name=bank.name,
                        kind="bank",
                        business_codes="9000101",
                        reason="开通",
                        decided_by="seed",
                    )
                )
    session.flush()
