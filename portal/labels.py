"""What the interface calls each value of the domain's vocabularies, in the visitor's language."""

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from portal.models.enums import (
    Channel,
    CommentStatus,
    Decision,
    DraftStatus,
    Identity,
    Method,
    PointLevel,
    Role,
    Stance,
)

ROLE_LABELS = {
    Role.citizen: _l("公众"),
    Role.liaison: _l("联系点工作人员"),
    Role.drafter: _l("起草小组"),
    Role.admin: _l("管理员"),
}

POINT_LEVEL_LABELS = {
    PointLevel.provincial: _l("省级"),
    PointLevel.municipal: _l("市级"),
    PointLevel.district: _l("区县级"),
}

DRAFT_STATUS_LABELS = {
    DraftStatus.draft: _l("未发布"),
    DraftStatus.consulting: _l("征求意见"),
    DraftStatus.closed: _l("征求意见已结束"),
    DraftStatus.archived: _l("已归档"),
}

PHASE_LABELS = {
    "unpublished": _l("未发布"),
    "upcoming": _l("即将开始征求意见"),
    "open": _l("正在征求意见"),
    "ended": _l("征求意见已结束"),
}

STANCE_LABELS = {
    Stance.support: _l("赞成"),
    Stance.oppose: _l("反对"),
    Stance.amend: _l("修改"),
    Stance.add: _l("增加"),
    Stance.delete: _l("删除"),
    Stance.other: _l("其他"),
}

IDENTITY_LABELS = {
    Identity.resident: _l("居民"),
    Identity.business: _l("企业"),
    Identity.organization: _l("社会组织"),
    Identity.expert: _l("专家学者"),
    Identity.deputy: _l("人大代表"),
    Identity.official: _l("机关工作人员"),
    Identity.other: _l("其他"),
}

CHANNEL_LABELS = {
    Channel.online: _l("网上征求意见"),
    Channel.liaison: _l("基层立法联系点"),
    Channel.api: _l("系统对接"),
}

METHOD_LABELS = {
    Method.forum: _l("座谈会"),
    Method.visit: _l("走访"),
    Method.survey: _l("问卷"),
    Method.expert_meeting: _l("论证会"),
    Method.hearing: _l("听证会"),
    Method.online: _l("线上收集"),
    Method.other: _l("其他"),
}

COMMENT_STATUS_LABELS = {
    CommentStatus.received: _l("已收到"),
    CommentStatus.under_review: _l("正在研究"),
    CommentStatus.decided: _l("已处理"),
}

DECISION_LABELS = {
    Decision.adopted: _l("采纳"),
    Decision.partly_adopted: _l("部分采纳"),
    Decision.not_adopted: _l("未采纳"),
    Decision.merged: _l("已合并"),
}


def register(app) -> None:
    """Make the label tables available to every template."""
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        POINT_LEVEL_LABELS=POINT_LEVEL_LABELS,
        DRAFT_STATUS_LABELS=DRAFT_STATUS_LABELS,
        PHASE_LABELS=PHASE_LABELS,
        STANCE_LABELS=STANCE_LABELS,
        IDENTITY_LABELS=IDENTITY_LABELS,
        CHANNEL_LABELS=CHANNEL_LABELS,
        METHOD_LABELS=METHOD_LABELS,
        COMMENT_STATUS_LABELS=COMMENT_STATUS_LABELS,
        DECISION_LABELS=DECISION_LABELS,
    )


def as_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def enum_choices(table: dict, blank=None) -> list[SelectChoice]:
    """Choices for a select from one of the label tables, with an optional blank first."""
    pairs = [(member.value, label) for member, label in table.items()]
    if blank is not None:
        pairs.insert(0, ("", blank))
    return as_choices(pairs)
