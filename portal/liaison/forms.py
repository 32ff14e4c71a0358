"""Forms for assignments, submissions, opinions and uploads."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import PortalForm
from portal.labels import IDENTITY_LABELS, METHOD_LABELS, STANCE_LABELS, as_choices, enum_choices
from portal.liaison.services import MAX_OPINION

_count = [Optional(), NumberRange(min=0, max=1_000_000, message=_l("请填写 0 或正整数。"))]


class SubmissionForm(PortalForm):
    draft = SelectField(_l("草案"), validators=[DataRequired()])
    method = SelectField(_l("收集方式"))
    held_on = DateField(_l("日期"), validators=[Optional()])
    place = StringField(_l("地点"), validators=[Optional(), Length(max=300)])
    participants = IntegerField(_l("参加人数"), validators=_count, default=0)
    participants_residents = IntegerField(_l("其中：居民"), validators=_count, default=0)
    participants_businesses = IntegerField(_l("其中：企业"), validators=_count, default=0)
    participants_experts = IntegerField(_l("其中：专家学者"), validators=_count, default=0)
    participants_deputies = IntegerField(_l("其中：人大代表"), validators=_count, default=0)
    participants_other = IntegerField(_l("其中：其他"), validators=_count, default=0)
    summary = TextAreaField(_l("情况概述"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, drafts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.draft.choices = as_choices((d.slug, d.title) for d in drafts)
        self.method.choices = enum_choices(METHOD_LABELS)

    def to_data(self) -> dict:
        names = (
            "method",
            "held_on",
            "place",
            "participants",
            "participants_residents",
            "participants_businesses",
            "participants_experts",
            "participants_deputies",
            "participants_other",
            "summary",
        )
        return {name: getattr(self, name).data for name in names}


class OpinionForm(PortalForm):
    body = TextAreaField(
        _l("意见内容"),
        validators=[DataRequired(message=_l("请填写意见内容。")), Length(max=MAX_OPINION)],
        render_kw={"rows": 4, "maxlength": MAX_OPINION},
    )
    article = SelectField(
        _l("涉及条款"),
        description=_l("选“自动识别”时，系统从意见内容中识别“第X条”。"),
    )
    stance = SelectField(_l("意见类型"))
    identity = SelectField(_l("提出人身份"))
    raised_by = IntegerField(
        _l("提出人数"),
        default=1,
        validators=[DataRequired(), NumberRange(min=1, max=100_000)],
    )
    submit = SubmitField(_l("添加意见"))

    def __init__(self, *args, draft=None, **kwargs):
        super().__init__(*args, **kwargs)
        articles = [(str(a.number), a.label) for a in (draft.articles if draft else [])]
        self.article.choices = as_choices(
            [("auto", _l("自动识别")), ("whole", _l("草案全文")), *articles]
        )
        self.stance.choices = enum_choices(STANCE_LABELS)
        self.identity.choices = enum_choices(IDENTITY_LABELS, blank=_l("未注明"))


class UploadForm(PortalForm):
    file = FileField(_l("文件"), validators=[FileRequired(message=_l("请选择文件。"))])
    submit = SubmitField(_l("上传"))


class ConfirmForm(PortalForm):
    submit = SubmitField(_l("确认"))


class AssignForm(PortalForm):
    draft = SelectField(_l("草案"), validators=[DataRequired()])
    all_points = BooleanField(_l("发送给全部联系点"))
    points = SelectMultipleField(
        _l("联系点"),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[Optional()],
    )
    due_on = DateField(_l("截止日期"), validators=[DataRequired()])
    focus_questions = TextAreaField(
        _l("重点征询问题"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 4}
    )
    submit = SubmitField(_l("发送征询任务"))

    def __init__(self, *args, drafts=(), points=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.draft.choices = as_choices((d.slug, d.title) for d in drafts)
        self.points.choices = as_choices((str(p.id), f"{p.code} {p.name}") for p in points)
