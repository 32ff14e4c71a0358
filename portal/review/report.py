"""The adoption report (意见采纳情况说明) of a draft as a Word document, built from SQL totals."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.comments.services import staff_visible
from portal.extensions import db
from portal.figures import Figures, Scope, compute, percent
from portal.figures import total as figures_total
from portal.i18n import article_label, chapter_label, is_english
from portal.labels import CHANNEL_LABELS, DECISION_LABELS, STANCE_LABELS
from portal.models import (
    Article,
    Channel,
    Chapter,
    Comment,
    Decision,
    Draft,
    LiaisonPoint,
    Stance,
    utcnow,
)
from portal.sanitize import mask_contacts, xml_safe

MAIN_POINTS = 5  # representative opinions per article
RESPONSES = 5  # distinct published responses per article
EXCERPT_CHARS = 120
ARTICLE_TEXT_CHARS = 60
BODY_FONT = "宋体"
HEADING_FONT = "黑体"
BULLET_STYLE_ID = "ListBullet"  # "List Bullet" in python-docx's default template


@dataclass
class Tally:
    """A part of the draft (an article, or the whole draft and its chapters): its figures and
    its opinions per stance."""

    figures: Figures = field(default_factory=Figures)
    stances: Counter = field(default_factory=Counter)


@dataclass
class PointRow:
    name: str
    figures: Figures


# --- figures, all from portal/figures.py (docs/figures.md) -----------------------------------


def _visible(draft: Draft):
    return (Comment.draft_id == draft.id) & staff_visible()


def tallies(draft: Draft, scope: Scope) -> tuple[Figures, dict[int | None, Tally]]:
    """The draft's figures and one tally per article id (None: whole draft, chapters)."""
    per_article = {
        article_id: Tally(figures)
        for article_id, figures in compute(scope, by="article", draft_id=draft.id).items()
    }
    for (article_id, stance), figures in compute(
        scope, by=("article", "stance"), draft_id=draft.id
    ).items():
        per_article[article_id].stances[stance] = figures.opinions
    return figures_total(scope, draft_id=draft.id), per_article


def point_rows(draft: Draft, scope: Scope) -> list[PointRow]:
    """Figures per liaison point (submitted batches only), most opinions first."""
    per_point = compute(scope, by="point", draft_id=draft.id)
    english = is_english()
    rows = [
        PointRow((name_en if english and name_en else name), per_point[point_id])
        for point_id, name, name_en in db.session.execute(
            select(LiaisonPoint.id, LiaisonPoint.name, LiaisonPoint.name_en).where(
                LiaisonPoint.id.in_(list(per_point))
            )
        )
    ]
    return sorted(rows, key=lambda r: (-r.figures.opinions, r.name))


def _article_filter(article_id: int | None):
    return Comment.article_id.is_(None) if article_id is None else Comment.article_id == article_id


def main_points(draft: Draft, article_id: int | None) -> list[tuple[int | None, str, int]]:
    """Up to MAIN_POINTS distinct opinions: raised by the most people, then the longest.

    Each comes as (chapter id, excerpt, people); the chapter tells the whole-draft section
    which chapter an opinion was about.
    """
    people = func.sum(Comment.raised_by)
    query = (
        select(Comment.body, people, func.min(Comment.chapter_id))
        .where(_visible(draft), _article_filter(article_id))
        .group_by(Comment.body)
        .order_by(people.desc(), func.length(Comment.body).desc(), func.min(Comment.id))
        .limit(MAIN_POINTS * 3)  # room for bodies that differ only in spacing
    )
    seen: set[str] = set()
    result: list[tuple[int | None, str, int]] = []
    for body, count, chapter_id in db.session.execute(query):
        key = re.sub(r"\s+", "", body)
        if key in seen:
            continue
        seen.add(key)
        result.append((chapter_id, excerpt(body), int(count)))
        if len(result) == MAIN_POINTS:
            break
    return result


def responses(draft: Draft, article_id: int | None) -> list[tuple[Decision | None, str, int]]:
    """Up to RESPONSES distinct published responses, each with how many opinions it answers."""
    covered = func.count(Comment.id)
    query = (
        select(Comment.decision, Comment.response, covered)
        .where(
            _visible(draft),
            _article_filter(article_id),
            Comment.response_published_at.is_not(None),
            Comment.response != "",
        )
        .group_by(Comment.decision, Comment.response)
        .order_by(covered.desc(), func.min(Comment.id))
        .limit(RESPONSES)
    )
    # Staff may paste a phone number into an answer: the report is public, so mask it.
    return [
        (decision, mask_contacts(text), int(n)) for decision, text, n in db.session.execute(query)
    ]


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters, with phone numbers and e-mail addresses masked."""
    # xml_safe: text stored before input was cleaned may hold characters lxml refuses.
    text = xml_safe(re.sub(r"\s+", " ", text)).strip()
    text = mask_contacts(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the document --------------------------------------------------------------------------


def _set_font(style, east_asian: str, size: float | None = None, black: bool = False) -> None:
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    # A theme font would win over the named one; Chinese text needs a Chinese font.
    fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
    fonts.set(qn("w:eastAsia"), east_asian)
    if size is not None:
        style.font.size = Pt(size)
    if black:
        style.font.color.rgb = RGBColor(0, 0, 0)


def _new_document():
    document = Document()
    styles = document.styles
    _set_font(styles["Normal"], BODY_FONT, 11)
    _set_font(styles["Title"], HEADING_FONT, 18, black=True)
    for name in ("Heading 1", "Heading 2"):
        _set_font(styles[name], HEADING_FONT, black=True)
    return document


def _bullet(document):
    """A "List Bullet" paragraph. Setting the style id directly: python-docx resolves a style
    by name with a scan of every style, which dominated the report's time."""
    paragraph = document.add_paragraph()
    paragraph._p.style = BULLET_STYLE_ID
    return paragraph


def _sep() -> str:
    return ", " if is_english() else "、"


def _colon() -> str:
    return ": " if is_english() else "："


def _aside(text: str) -> str:
    """A remark in brackets after a sentence: full-width in Chinese."""
    return f" ({text})" if is_english() else f"（{text}）"


def _number(n: int) -> str:
    return format_decimal(n)


def _table(document, header: list[str] | None, rows: list[list[str]]) -> None:
    """A compact grid: created at its final size, filled row by row (never cell by cell)."""
    values = [header, *rows] if header else rows
    table = document.add_table(rows=len(values), cols=len(values[0]))
    table.style = "Table Grid"
    for row, texts in zip(table.rows, values, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = xml_safe(text)
    if header:
        for cell in table.rows[0].cells:
            for run in cell.paragraphs[0].runs:
                run.bold = True


def _window(draft: Draft) -> str:
    if draft.opens_at is None or draft.closes_at is None:
        return _("征求意见时间：%(start)s 至 %(end)s", start=_("尚未确定"), end=_("尚未确定"))
    return _(
        "征求意见时间：%(start)s 至 %(end)s",
        start=format_date(draft.opens_at, "long"),
        end=format_date(draft.closes_at, "long"),
    )


def _scope_note(scope: Scope) -> str:
    if scope is Scope.public:
        return _("统计范围：只计已公开答复的处理结果，其余意见计为尚未处理。")
    return _("统计范围：起草小组作出的全部处理决定，含尚未公开答复的。")


def _overview(document, draft: Draft, total: Figures, scope: Scope) -> None:
    document.add_heading(_("一、总体情况"), level=1)
    _table(
        document,
        None,
        [
            [_("意见总数"), _number(total.opinions)],
            [_("参与人数"), _number(total.people)],
            [_("已处理"), _number(total.decided)],
            [_("尚未处理"), _number(total.undecided)],
            [_("采纳率"), total.rate_text()],
        ],
    )
    document.add_paragraph(
        _(
            "参与人数：网上提交的意见按不同参与者计，联系点报送的意见按提出人数计。"
            "采纳率：采纳和部分采纳的意见占已作出处理决定（含已合并）的意见的比例。"
        )
    )
    document.add_paragraph(_scope_note(scope))
    per_channel = compute(scope, by="channel", draft_id=draft.id)
    rows = [
        [str(CHANNEL_LABELS[c]), _number(per_channel.get(c, Figures()).opinions)] for c in Channel
    ]
    rows.append([_("合计"), _number(total.opinions)])
    _table(document, [_("渠道"), _("意见数")], rows)
    document.add_paragraph()
    rows = []
    for decision, n in total.by_decision().items():
        label = str(DECISION_LABELS[decision]) if decision else _("尚未处理")
        rows.append([label, _number(n), percent(n / total.opinions if total.opinions else None)])
    rows.append([_("合计"), _number(total.opinions), percent(1.0 if total.opinions else None)])
    _table(document, [_("处理结果"), _("意见数"), _("占比")], rows)


def _points(document, draft: Draft, scope: Scope) -> None:
    document.add_heading(_("二、各联系点报送意见情况"), level=1)
    rows = point_rows(draft, scope)
    if not rows:
        document.add_paragraph(_("还没有已报送的意见。"))
        return
    names = ("opinions", "people", "adopted", "partly_adopted")
    table_rows = [
        [r.name, *(_number(getattr(r.figures, name)) for name in names), r.figures.rate_text()]
        for r in rows
    ]
    # All points together: the draft's liaison opinions, counted by the same rule.
    together = figures_total(scope, draft_id=draft.id, channel=Channel.liaison)
    table_rows.append(
        [
            _("合计"),
            *(_number(getattr(together, name)) for name in names),
            together.rate_text(),
        ]
    )
    _table(
        document,
        [_("联系点"), _("意见数"), _("提出人数"), _("采纳"), _("部分采纳"), _("采纳率")],
        table_rows,
    )


def _counts_line(label, counter: Counter, order: list) -> str:
    parts = [f"{label(key)} {_number(counter[key])}" for key in order if counter[key]]
    return _sep().join(parts)


def _part(
    document, draft: Draft, article_id: int | None, tally: Tally, chapters: dict[int, str]
) -> None:
    figures = tally.figures
    document.add_paragraph(
        _(
            "意见数：%(opinions)s；提出人数：%(people)s",
            opinions=_number(figures.opinions),
            people=_number(figures.people),
        )
    )
    stances = _counts_line(lambda s: STANCE_LABELS[s], tally.stances, list(Stance))
    document.add_paragraph(_("意见类型：%(counts)s", counts=stances))
    decisions = _counts_line(
        lambda d: DECISION_LABELS[d] if d else _("尚未处理"),
        Counter(figures.by_decision()),
        [*Decision, None],
    )
    document.add_paragraph(_("处理结果：%(counts)s", counts=decisions))
    document.add_paragraph(_("采纳率：%(rate)s", rate=figures.rate_text()))

    heading = document.add_paragraph()
    heading.add_run(_("主要意见")).bold = True
    for chapter_id, body, people in main_points(draft, article_id):
        item = _bullet(document)
        if article_id is None and chapter_id in chapters:
            item.add_run(chapters[chapter_id] + _colon()).bold = True
        item.add_run(body)
        if people > 1:
            item.add_run(_aside(ngettext("%(num)d 人提出", "%(num)d 人提出", people)))

    heading = document.add_paragraph()
    heading.add_run(_("答复和理由")).bold = True
    answered = responses(draft, article_id)
    if not answered:
        document.add_paragraph(_("尚未公开答复。"))
    for decision, text, covered in answered:
        item = _bullet(document)
        if decision is not None:
            item.add_run(str(DECISION_LABELS[decision]) + _colon()).bold = True
        item.add_run(xml_safe(text))
        item.add_run(_aside(ngettext("涉及 %(num)d 条意见", "涉及 %(num)d 条意见", covered)))


def _articles(document, draft: Draft, per_article: dict[int | None, Tally]) -> None:
    document.add_heading(_("三、逐条意见及采纳情况"), level=1)
    if not per_article:
        document.add_paragraph(_("还没有收到意见。"))
        return
    if None in per_article:
        document.add_heading(_("对草案全文和各章的意见"), level=2)
        chapters = {
            chapter_id: chapter_label(number)
            for chapter_id, number in db.session.execute(
                select(Chapter.id, Chapter.number).where(Chapter.draft_id == draft.id)
            )
        }
        _part(document, draft, None, per_article[None], chapters)
    articles = db.session.execute(
        select(Article.id, Article.number, Article.heading, Article.text)
        .where(Article.draft_id == draft.id)
        .order_by(Article.position)
    ).all()
    without: list[str] = []
    for article_id, number, title, text in articles:
        label = article_label(number)
        if article_id not in per_article:
            without.append(label)
            continue
        document.add_heading(xml_safe(f"{label} {title}".strip()), level=2)
        quoted = document.add_paragraph()
        quoted.add_run(excerpt(text, ARTICLE_TEXT_CHARS)).italic = True
        _part(document, draft, article_id, per_article[article_id], {})
    if without:
        document.add_paragraph(_("未收到意见的条款：%(articles)s", articles=_sep().join(without)))


def build_adoption_report(draft: Draft, scope: Scope = Scope.staff) -> bytes:
    """The adoption report as .docx bytes, in the current locale.

    Counts only what the drafting team sees (staff_visible); never a name or contact detail.
    `scope` says which decisions count (docs/figures.md): the team's own copy counts every
    decision (staff), the copy published with the results only the published ones (public),
    so that it agrees with the results page. The document states its scope.
    """
    english = is_english()
    title = xml_safe((draft.title_en if english and draft.title_en else "") or draft.title)
    document = _new_document()
    heading = _("《%(title)s》意见采纳情况说明", title=title)
    properties = document.core_properties
    properties.title = heading
    properties.author = xml_safe(
        draft.drafting_body_en if english and draft.drafting_body_en else draft.drafting_body
    )
    properties.last_modified_by = ""
    properties.comments = ""
    properties.created = utcnow()
    properties.modified = properties.created

    document.add_heading(heading, level=0)
    document.add_paragraph(_window(draft))
    document.add_paragraph(_("生成日期：%(date)s", date=format_date(utcnow(), "long")))

    total, per_article = tallies(draft, scope)
    _overview(document, draft, total, scope)
    _points(document, draft, scope)
    _articles(document, draft, per_article)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def report_filename(draft: Draft) -> str:
    return f"{draft.slug}-adoption-report.docx"
