"""Forms of the drafting team's workbench."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm
from portal.labels import COMMENT_STATUS_LABELS, DECISION_LABELS, as_choices, enum_choices


class DecisionForm(PortalForm):
    status = SelectField(_l("处理状态"), choices=enum_choices(COMMENT_STATUS_LABELS))
    decision = SelectField(_l("处理结果"), validators=[Optional()])
    response = TextAreaField(_l("答复"), validators=[Optional(), Length(max=5000)])
    publish = BooleanField(_l("公开答复（提交人凭回执编号可见）"))
    show_publicly = BooleanField(_l("在草案页面公开这条意见的内容（不含姓名和联系方式）"))
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = enum_choices(DECISION_LABELS, blank=_l("尚未决定"))


BULK_ACTIONS = (
    ("add_category", _l("加入分类")),
    ("remove_category", _l("移出分类")),
    ("set_article", _l("设定涉及条款")),
    ("decide", _l("设定处理结果并答复")),
    ("merge_into", _l("合并到另一条意见")),
)


class BulkForm(PortalForm):
    """One action on the selected opinions, or on every opinion the search found."""

    action = SelectField(_l("批量操作"), choices=as_choices(BULK_ACTIONS))
    scope = SelectField(_l("范围"))
    category = SelectField(_l("分类"), validators=[Optional()])
    article = SelectField(_l("条款"), validators=[Optional()])
    decision = SelectField(_l("处理结果"), validators=[Optional()])
    template = SelectField(_l("答复模板"), validators=[Optional()])
    response = TextAreaField(_l("答复"), validators=[Optional(), Length(max=5000)])
    publish = BooleanField(_l("公开答复"))
    target = StringField(_l("合并到意见编号"), validators=[Optional(), Length(max=12)])
    query = HiddenField()
    submit = SubmitField(_l("执行"))

    def __init__(self, *args, draft=None, categories=(), templates=(), total=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = as_choices(
            [("selected", _l("勾选的意见")), ("all", _l("全部 %(n)d 条搜索结果", n=total))]
        )
        self.category.choices = as_choices((str(c.id), c.name) for c in categories)
        articles = [(str(a.number), a.label) for a in (draft.articles if draft else [])]
        self.article.choices = as_choices([("whole", _l("草案全文")), *articles])
        self.decision.choices = enum_choices(DECISION_LABELS)
        self.template.choices = as_choices(
            [("", _l("不使用模板")), *((str(t.id), t.title) for t in templates)]
        )


class CategoryForm(PortalForm):
    name = StringField(_l("分类名称"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=100)])
    keywords = StringField(
        _l("关键词"),
        validators=[Optional(), Length(max=1000)],
        description=_l("用逗号或顿号分隔；意见中出现这些词时，系统建议归入这个分类。"),
    )
    submit = SubmitField(_l("保存"))


class MergeForm(PortalForm):
    source = SelectField(_l("把这个分类"))
    target = SelectField(_l("合并到"))
    submit = SubmitField(_l("合并"))

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(c.id), c.name) for c in categories]
        self.source.choices = as_choices(choices)
        self.target.choices = as_choices(choices)


class TemplateForm(PortalForm):
    title = StringField(_l("模板名称"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("答复内容"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("保存模板"))


class ClusterDecisionForm(PortalForm):
    decision = SelectField(_l("处理结果"))
    response = TextAreaField(_l("答复"), validators=[Optional(), Length(max=5000)])
    publish = BooleanField(_l("公开答复"))
    submit = SubmitField(_l("对整组作出处理"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = enum_choices(DECISION_LABELS)


class ConfirmForm(PortalForm):
    """A button that only needs its CSRF token."""

    submit = SubmitField(_l("确认"))
