"""What each liaison rule's refusal says, in the user's language (pages and the API)."""

from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _

from portal.liaison import services as liaison


def _when(value) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def window_message(error: liaison.LiaisonError) -> str:
    """Why the draft takes no batch now: it opens later, its grace ended, results are out."""
    params = error.params
    match error.code:
        case "not_open" if params.get("opens_at"):
            return _(
                "这部草案的征求意见将于 %(opens)s 开始，开始后才能报送意见。",
                opens=_when(params["opens_at"]),
            )
        case "not_open":
            return _("这部草案尚未开始征求意见，开始后才能报送意见。")
        case "window_closed":
            return _(
                "这部草案的征求意见已于 %(closed)s 结束，整理座谈记录的宽限期（%(num)d 天）"
                "已于 %(deadline)s 截止，不能再报送意见。",
                num=params.get("days", 0),
                closed=_when(params.get("closes_at")),
                deadline=_when(params.get("deadline")),
            )
        case "draft_archived":
            return _("这部草案已经归档，不能再报送意见。")
        case "results_published":
            return _(
                "这部草案的征求意见结果已于 %(when)s 公布，不能再报送意见，已公布的数字不再变动。",
                when=_when(params.get("published_at")),
            )
    return _("这部草案尚未发布。")


def error_message(error: liaison.LiaisonError) -> str:
    params = error.params
    row = params.get("index")
    if error.code in liaison.WINDOW_CODES:
        return window_message(error)
    messages = {
        "point_inactive": _("您所在的联系点已停用，不能再报送意见。"),
        "negative_count": _("人数不能是负数。"),
        "breakdown_mismatch": _(
            "分项人数合计%(parts)d人，与参与总人数%(total)d人不一致。"
            "请核对各类人员的人数；不便归类的人数请填在“其他”中。",
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
        "repeats_found": ngettext(
            "这批意见中有 %(num)d 条与本联系点此前报送的意见相同。"
            "请去掉重复的意见，或确认仍然报送。",
            "这批意见中有 %(num)d 条与本联系点此前报送的意见相同。"
            "请去掉重复的意见，或确认仍然报送。",
            params.get("count", 0),
        ),
        "all_repeats": _("这批意见都与本联系点此前报送的意见相同，去掉后没有可报送的意见。"),
        "attachment_empty": _("文件是空的。"),
        "attachment_too_large": _("附件不能超过 %(mb)d MB。", mb=params.get("max_mb", 10)),
        "attachment_type": _("只能上传 PDF、Word、Excel、JPG 或 PNG 文件，且内容须与类型相符。"),
    }
    message = messages.get(error.code, _("操作未成功，请检查后重试。"))
    if row is not None and len(params) > 1:
        return _("第 %(n)d 条意见：%(message)s", n=row + 1, message=message)
    return message
