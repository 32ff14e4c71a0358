"""Login form."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.forms import PortalForm


class LoginForm(PortalForm):
    login = StringField(_l("电子邮箱或手机号码"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("在本设备上保持登录"))
    submit = SubmitField(_l("登录"))


class RegisterForm(PortalForm):
    login = StringField(
        _l("电子邮箱或手机号码"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("用于登录，不会公开。"),
    )
    display_name = StringField(_l("称呼（可选）"), validators=[Length(max=100)])
    password = PasswordField(
        _l("密码"),
        validators=[DataRequired(), Length(min=8, max=200, message=_l("密码至少需要 8 个字符。"))],
    )
    confirm = PasswordField(
        _l("再次输入密码"),
        validators=[DataRequired(), EqualTo("password", message=_l("两次输入的密码不一致。"))],
    )
    submit = SubmitField(_l("注册"))


class TokenForm(PortalForm):
    name = StringField(
        _l("用途"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("例如“联系点信息系统”，便于日后辨认和撤销。"),
    )
    submit = SubmitField(_l("生成令牌"))
