"""What each liaison rule's refusal says, in the user's language (pages and the API)."""

from flask_babel import gettext as _

from portal.liaison import services as liaison


def error_message(error: liaison.LiaisonError) -> str:
    params = error.params
    row = params.get("index")
    messages = {
        "draft_unpublished": _("这部草案尚未发布。"),
        "point_inactive": _("您所在的联系点已停用，不能再报送意见。"),
        "negative_count": _("人数不能是负数。"),
        "parts_exceed_total": _(
            "各类人员人数之和（%(parts)d）超过了参加人数（%(total)d）。",
            parts=params.get("parts", 0),
            total=params.get("total", 0),
        ),
        "already_submitted": _("这批意见已经报送，不能再修改。"),
        "empty_body": _("请填写意见内容。"),
        "body_too_long": _("意见最多 %(max)d 个字。", max=liaison.MAX_OPINION),
        "raised_by_invalid": _("提出人数至少为 1。"),
        "article_unknown": _("草案中没有第 %(n)s 条。", n=params.get("number", "?")),
        "no_opinions": _("这批意见还是空的，请先添加或导入意见。"),
        "held_on_required": _("报送前请填写收集意见的日期。"),
        "attachment_empty": _("文件是空的。"),
        "attachment_too_large": _("附件不能超过 %(mb)d MB。", mb=params.get("max_mb", 10)),
        "attachment_type": _("只能上传 PDF、Word、Excel、JPG 或 PNG 文件，且内容须与类型相符。"),
    }
    message = messages.get(error.code, _("操作未成功，请检查后重试。"))
    if row is not None and len(params) > 1:
        return _("第 %(n)d 条意见：%(message)s", n=row + 1, message=message)
    return message
