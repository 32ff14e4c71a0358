"""The comment form and the tracking-code lookup form."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.comments.services import MAX_BODY, MAX_QUOTE
from portal.forms import PortalForm
from portal.labels import IDENTITY_LABELS, STANCE_LABELS, as_choices, enum_choices
from portal.models import Draft


class CommentForm(PortalForm):
    target = SelectField(_l("意见针对"), validators=[DataRequired()])
    stance = RadioField(
        _l("您的意见是"),
        choices=enum_choices(STANCE_LABELS),
        default="amend",
        validators=[DataRequired(message=_l("请选择您的意见类型。"))],
    )
    quote = TextAreaField(
        _l("引用原文（可选）"),
        validators=[Optional(), Length(max=MAX_QUOTE)],
        description=_l("可以粘贴您所指的那一句或那一款。"),
    )
    body = TextAreaField(
        _l("意见和建议"),
        validators=[
            DataRequired(message=_l("请填写意见内容。")),
            Length(max=MAX_BODY, message=_l("意见最多 %(max)d 个字。", max=MAX_BODY)),
        ],
        render_kw={"maxlength": MAX_BODY, "rows": 7, "data-counter": "body-counter"},
    )
    name = StringField(_l("姓名（可选）"), validators=[Optional(), Length(max=100)])
    contact = StringField(
        _l("手机或电子邮箱（可选）"),
        validators=[Optional(), Length(max=254)],
        description=_l("只有起草小组工作人员能看到，用于就您的意见与您联系。"),
    )
    identity = SelectField(_l("身份（可选）"), validators=[Optional()])
    district = StringField(_l("所在区县（可选）"), validators=[Optional(), Length(max=100)])
    consent = BooleanField(_l("我同意按隐私说明保存我的姓名和联系方式"))
    # Left empty by people; filled in by simple bots. Hidden from view and from screen readers.
    website = StringField(
        _l("网址（请勿填写）"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )
    started = HiddenField()
    idempotency_key = HiddenField()
    submit = SubmitField(_l("提交意见"))

    def __init__(self, draft: Draft, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("draft", _l("草案全文"))]
        for chapter in draft.chapters:
            choices.append((f"chapter-{chapter.number}", f"{chapter.label} {chapter.heading}"))
        choices += [(f"article-{a.number}", a.label) for a in draft.articles]
        self.target.choices = as_choices(choices)
        self.identity.choices = enum_choices(IDENTITY_LABELS, blank=_l("不填写"))


class TrackForm(PortalForm):
    class Meta:
        csrf = False  # a read-only lookup by GET

    code = StringField(
        _l("回执编号"),
        validators=[DataRequired(message=_l("请输入回执编号。")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    submit = SubmitField(_l("查询"))
