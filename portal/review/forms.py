"""The decision form on a single opinion."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from portal.labels import COMMENT_STATUS_LABELS, DECISION_LABELS, enum_choices


class DecisionForm(FlaskForm):
    status = SelectField(_l("处理状态"), choices=enum_choices(COMMENT_STATUS_LABELS))
    decision = SelectField(_l("处理结果"), validators=[Optional()])
    response = TextAreaField(_l("答复"), validators=[Optional(), Length(max=5000)])
    publish = BooleanField(_l("公开答复（提交人凭回执编号可见）"))
    show_publicly = BooleanField(_l("在草案页面公开这条意见的内容（不含姓名和联系方式）"))
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = enum_choices(DECISION_LABELS, blank=_l("尚未决定"))
