"""Account rules: creating users and checking credentials, callable without HTTP."""

import re

from sqlalchemy import func, or_, select

from portal.extensions import db
from portal.models import LiaisonPoint, Role, User, utcnow

PHONE_RE = re.compile(r"^1\d{10}$")
MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """A rule about accounts was broken; the message is for the person who asked."""


def normalize_login(identifier: str) -> str:
    return identifier.strip().lower()


def find_by_login(identifier: str) -> User | None:
    """An account by e-mail (case-insensitive) or mobile number."""
    ident = normalize_login(identifier)
    if not ident:
        return None
    return db.session.scalar(
        select(User).where(or_(func.lower(User.email) == ident, User.phone == ident))
    )


def authenticate(identifier: str, password: str) -> User | None:
    user = find_by_login(identifier)
    if user is None or not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user


def create_user(
    *,
    role: Role,
    password: str,
    email: str | None = None,
    phone: str | None = None,
    display_name: str = "",
    point_code: str | None = None,
) -> User:
    """Create an account; liaison staff must belong to exactly one point, others to none."""
    from flask_babel import gettext as _

    email = normalize_login(email) if email else None
    phone = phone.strip() if phone else None
    if not email and not phone:
        raise AccountError(_("请填写电子邮箱或手机号码。"))
    if phone and not PHONE_RE.match(phone):
        raise AccountError(_("手机号码应为 11 位数字。"))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("密码至少需要 %(n)d 个字符。", n=MIN_PASSWORD_LENGTH))
    for ident in filter(None, (email, phone)):
        if find_by_login(ident) is not None:
            raise AccountError(_("账号 %(ident)s 已存在。", ident=ident))
    point = None
    if role == Role.liaison:
        if not point_code:
            raise AccountError(_("联系点工作人员账号必须指定所属联系点。"))
        point = db.session.scalar(select(LiaisonPoint).where(LiaisonPoint.code == point_code))
        if point is None:
            raise AccountError(_("没有编号为 %(code)s 的联系点。", code=point_code))
    elif point_code:
        raise AccountError(_("只有联系点工作人员账号可以指定联系点。"))
    user = User(role=role, email=email, phone=phone, display_name=display_name, liaison_point=point)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
