"""What each commenting rule's refusal says, in the user's language (the form and the API)."""

from flask_babel import gettext as _

from portal.comments import services as comments


def rejection_message(code: str) -> str:
    messages = {
        "window_closed": _("本草案当前不在征求意见期内，无法提交意见。"),
        "empty_body": _("请填写意见内容。"),
        "body_too_long": _("意见最多 %(max)d 个字。", max=comments.MAX_BODY),
        "quote_too_long": _("引用的原文最多 %(max)d 个字。", max=comments.MAX_QUOTE),
        "bad_target": _("请选择草案全文、某一章或某一条。"),
        "consent_required": _("留下姓名或联系方式前，请勾选同意隐私说明；也可以不留，匿名提交。"),
        "bad_contact": _("请填写 11 位手机号码或有效的电子邮箱。"),
        "bad_idempotency_key": _("表单已失效，请刷新页面后重新提交。"),
        "too_fast": _("您提交得太快了。请确认意见内容后再次点击提交。"),
        "form_expired": _("表单已失效，请重新点击提交；您填写的内容都还在。"),
        "honeypot": _("提交未成功，请刷新页面后重试。"),
    }
    return messages.get(code, _("提交未成功，请检查后重试。"))
