"""Managing liaison points and staff accounts; callable without HTTP."""

from sqlalchemy import func, select

from portal.audit import record
from portal.auth.services import AccountError, create_user
from portal.extensions import db
from portal.models import LiaisonPoint, PointLevel, Role, User

POINT_FIELDS = (
    "code",
    "name",
    "name_en",
    "level",
    "district",
    "district_en",
    "address",
    "contact_name",
    "contact_phone",
)


def list_points(include_inactive: bool = True) -> list[LiaisonPoint]:
    query = select(LiaisonPoint).order_by(LiaisonPoint.level.desc(), LiaisonPoint.code)
    if not include_inactive:
        query = query.where(LiaisonPoint.active.is_(True))
    return list(db.session.scalars(query))


def staff_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(User.liaison_point_id, func.count(User.id))
        .where(User.liaison_point_id.is_not(None), User.active.is_(True))
        .group_by(User.liaison_point_id)
    )
    return dict(rows.all())


def save_point(point: LiaisonPoint | None, data: dict, actor: User) -> LiaisonPoint:
    created = point is None
    point = point or LiaisonPoint()
    for name in POINT_FIELDS:
        if name in data:
            value = PointLevel(data[name]) if name == "level" else (data[name] or "").strip()
            setattr(point, name, value)
    db.session.add(point)
    db.session.flush()
    record(actor, "point.created" if created else "point.updated", point, {"code": point.code})
    return point


def set_point_active(point: LiaisonPoint, active: bool, actor: User) -> None:
    """Deactivating a point also deactivates its staff accounts; nothing is deleted."""
    point.active = active
    if not active:
        for user in point.staff:
            user.active = False
    db.session.flush()
    record(actor, "point.activated" if active else "point.deactivated", point, {})


def add_staff(
    point: LiaisonPoint,
    *,
    email: str | None,
    phone: str | None,
    name: str,
    password: str,
    actor: User,
) -> User:
    if not point.active:
        from flask_babel import gettext as _

        raise AccountError(_("这个联系点已停用，不能添加工作人员。"))
    user = create_user(
        role=Role.liaison,
        email=email,
        phone=phone,
        password=password,
        display_name=name,
        point_code=point.code,
    )
    record(actor, "user.created", user, {"role": "liaison", "point": point.code})
    return user


def set_user_active(user: User, active: bool, actor: User) -> None:
    user.active = active
    db.session.flush()
    record(actor, "user.activated" if active else "user.deactivated", user, {})


def list_accounts(role: Role | None = None) -> list[User]:
    query = select(User).order_by(User.role, User.id)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))
