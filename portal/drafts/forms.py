"""Forms for filtering drafts and for the drafting team's draft management."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from sqlalchemy import select
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.extensions import db
from portal.forms import PortalForm
from portal.labels import DRAFT_STATUS_LABELS, as_choices
from portal.models import Draft


def _status_choices(blank: str | None):
    choices = [(s.value, label) for s, label in DRAFT_STATUS_LABELS.items()]
    return [("", blank), *choices] if blank is not None else choices


class StatusFilterForm(PortalForm):
    status = SelectField(_l("状态"), validators=[Optional()])
    submit = SubmitField(_l("筛选"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = as_choices(
            (value, label) for value, label in _status_choices(_l("全部")) if value != "draft"
        )


class DraftMetaForm(PortalForm):
    slug = StringField(
        _l("网址标识"),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("只能使用小写字母、数字和连字符。")),
        ],
        description=_l("用于网址，例如 wuye-guanli。"),
    )
    title = StringField(_l("标题"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("英文标题"), validators=[Optional(), Length(max=300)])
    summary = TextAreaField(_l("说明"), validators=[Optional(), Length(max=5000)])
    summary_en = TextAreaField(_l("英文说明"), validators=[Optional(), Length(max=5000)])
    drafting_body = StringField(_l("起草单位"), validators=[Optional(), Length(max=200)])
    drafting_body_en = StringField(_l("起草单位（英文）"), validators=[Optional(), Length(max=300)])
    status = SelectField(_l("状态"))
    opens_at = DateTimeLocalField(
        _l("征求意见开始时间"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    closes_at = DateTimeLocalField(
        _l("征求意见截止时间"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, draft: Draft | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._draft = draft
        self.status.choices = as_choices(_status_choices(None))
        if draft is not None and not self.is_submitted():
            self.status.data = draft.status.value
            self.opens_at.data = _to_local(draft.opens_at)
            self.closes_at.data = _to_local(draft.closes_at)

    def validate_slug(self, field):
        existing = db.session.scalar(select(Draft).where(Draft.slug == field.data))
        if existing is not None and existing is not self._draft:
            raise ValidationError(_l("这个网址标识已被使用。"))

    def validate_closes_at(self, field):
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("截止时间必须晚于开始时间。"))
        if self.status.data == "consulting" and not (self.opens_at.data and field.data):
            raise ValidationError(_l("征求意见中的草案必须设定起止时间。"))

    def to_data(self) -> dict:
        data = {
            name: getattr(self, name).data or ""
            for name in (
                "slug",
                "title",
                "title_en",
                "summary",
                "summary_en",
                "drafting_body",
                "drafting_body_en",
            )
        }
        data["status"] = self.status.data
        data["opens_at"] = _to_utc(self.opens_at.data)
        data["closes_at"] = _to_utc(self.closes_at.data)
        return data


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _to_utc(local: datetime | None) -> datetime | None:
    """A date and time typed in the legislature's time zone, as an aware UTC datetime."""
    if local is None:
        return None
    return local.replace(tzinfo=_zone()).astimezone(UTC)


def _to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(_zone()).replace(tzinfo=None)


class DraftTextForm(PortalForm):
    text = TextAreaField(
        _l("正文"),
        validators=[Optional()],
        description=_l(
            "粘贴草案全文，或上传 .docx 文件。每条以“第X条”开头，章节以“第X章”“第X节”开头。"
        ),
    )
    document = FileField(
        _l("Word 文件（.docx）"),
        validators=[FileAllowed(["docx"], _l("只能上传 .docx 文件。"))],
    )
    confirmed = HiddenField(default="")
    preview = SubmitField(_l("预览"))
    publish = SubmitField(_l("确认发布"))
