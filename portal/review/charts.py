"""Server-rendered SVG charts (pygal) of a draft's statistics; each has a table beside it."""

from flask import Response
from flask_babel import gettext as _

from portal.labels import CHANNEL_LABELS, DECISION_LABELS, IDENTITY_LABELS, STANCE_LABELS
from portal.models import Channel, Decision, Identity, Stance


def charts_policy() -> dict:
    """An SVG shown through <img> runs no script; its own styles need this narrow policy."""
    return {"default-src": "'none'", "style-src": "'unsafe-inline'", "img-src": "data:"}


def _style():
    import pygal
    from pygal.style import Style

    return Style(
        background="white",
        plot_background="white",
        foreground="#222",
        foreground_strong="#111",
        foreground_subtle="#666",
        colors=("#9b1c1c", "#1552a0", "#146c43", "#8a5300", "#545b62", "#6f42c1", "#0c7a8a"),
        font_family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif",
    ), pygal


def _label(table, enum_cls, key: str) -> str:
    try:
        return str(table[enum_cls(key)])
    except ValueError:
        return _("未注明") if not key else key


def _config(pygal, style, title):
    return dict(
        style=style,
        title=title,
        js=[],  # no external or inline script: the page's CSP forbids it
        disable_xml_declaration=False,
        show_legend=False,
        width=720,
        height=360,
        print_values=True,
    )


def render(name: str, stats) -> bytes | None:
    style, pygal = _style()
    if name == "by_day":
        chart = pygal.Line(**_config(pygal, style, _("每日收到的意见")), x_label_rotation=30)
        chart.x_labels = [d.strftime("%m-%d") for d, _n in stats.by_day]
        chart.add(_("意见数"), [n for _d, n in stats.by_day])
    elif name in ("by_channel", "by_stance", "by_identity", "by_decision"):
        table, enum_cls, title = {
            "by_channel": (CHANNEL_LABELS, Channel, _("按渠道")),
            "by_stance": (STANCE_LABELS, Stance, _("按意见类型")),
            "by_identity": (IDENTITY_LABELS, Identity, _("按身份")),
            "by_decision": (DECISION_LABELS, Decision, _("按处理结果")),
        }[name]
        chart = pygal.HorizontalBar(**_config(pygal, style, title))
        rows = getattr(stats, name)
        for key, count in rows:
            label = _("尚未处理") if key == "undecided" else _label(table, enum_cls, key)
            chart.add(label, [count])
        chart.show_legend = True
        chart.print_values = True
    elif name == "by_point":
        chart = pygal.HorizontalBar(**_config(pygal, style, _("按联系点")))
        for point, count in stats.by_point[:15]:
            chart.add(point, [count])
        chart.show_legend = True
    else:
        return None
    return chart.render()


def svg_response(svg: bytes) -> Response:
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
