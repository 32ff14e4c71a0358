"""Forms for liaison points and accounts."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.extensions import db
from portal.forms import PortalForm
from portal.labels import POINT_LEVEL_LABELS, ROLE_LABELS, enum_choices
from portal.models import LiaisonPoint


class PointForm(PortalForm):
    code = StringField(
        _l("编号"),
        validators=[
            DataRequired(),
            Length(max=32),
            Regexp(r"^[A-Za-z0-9\-]+$", message=_l("编号只能使用字母、数字和连字符。")),
        ],
    )
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=200)])
    level = SelectField(_l("级别"))
    district = StringField(_l("所在区县"), validators=[Optional(), Length(max=100)])
    district_en = StringField(_l("所在区县（英文）"), validators=[Optional(), Length(max=100)])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=300)])
    contact_name = StringField(_l("联系人"), validators=[Optional(), Length(max=100)])
    contact_phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=50)])
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, point: LiaisonPoint | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._point = point
        self.level.choices = enum_choices(POINT_LEVEL_LABELS)
        if point is not None and not self.is_submitted():
            self.level.data = point.level.value

    def validate_code(self, field):
        existing = db.session.scalar(select(LiaisonPoint).where(LiaisonPoint.code == field.data))
        if existing is not None and existing is not self._point:
            raise ValidationError(_l("这个编号已被使用。"))

    def to_data(self) -> dict:
        from portal.admin.services import POINT_FIELDS

        return {name: getattr(self, name).data for name in POINT_FIELDS}


class StaffForm(PortalForm):
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("手机号码"), validators=[Optional(), Length(max=32)])
    password = PasswordField(
        _l("初始密码"),
        validators=[DataRequired(), Length(min=8, max=200, message=_l("密码至少需要 8 个字符。"))],
    )
    submit = SubmitField(_l("添加工作人员"))


class AccountForm(PortalForm):
    """A drafting-team or admin account; liaison staff are added on their point's page."""

    role = SelectField(_l("角色"))
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    email = StringField(_l("电子邮箱"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("初始密码"),
        validators=[DataRequired(), Length(min=8, max=200, message=_l("密码至少需要 8 个字符。"))],
    )
    submit = SubmitField(_l("创建账号"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = enum_choices(
            {r: label for r, label in ROLE_LABELS.items() if r.value in ("drafter", "admin")}
        )
