"""Every output that shows figures agrees with one known set of decisions (docs/figures.md).

One draft, eleven counted opinions (online, API and two liaison points, every decision, some
published, some not) and one unsubmitted batch that must never count. The expected numbers
are written out by hand below, once per scope; each page, the API, the .docx report (both
copies) and the export must show exactly them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from docx import Document
from lxml import html

from portal.drafts import results
from portal.extensions import db
from portal.models import (
    Channel,
    Comment,
    CommentStatus,
    Decision,
    Draft,
    LiaisonPoint,
    Role,
    Stance,
    Submission,
    SubmissionStatus,
    User,
    utcnow,
)
from tests.conftest import PASSWORD
from tests.drafts.test_views import make_draft
from tests.jobs.helpers import job_download

A, P, N, M = Decision.adopted, Decision.partly_adopted, Decision.not_adopted, Decision.merged

# (article number or None, who or (point, people), decision, response published)
ONLINE = [
    (2, "u:a", A, True),
    (2, "u:a", P, True),  # the same person again: still one participant
    (3, "b:b", N, False),
    (None, "b:c", M, True),
    (3, "o:d", None, False),
]
API = [(2, "o:e", A, False)]
EAST = [(2, 12, A, True), (3, 3, P, False), (2, 5, None, False)]
WEST = [(None, 2, M, False), (2, 4, N, True)]
UNSUBMITTED = [(2, 9, None, False)]  # a batch still being written: never counted

# The expected figures, worked out by hand from the lists above.
STAFF = {  # every recorded decision
    "opinions": 11,
    "people": 31,  # online a, b, c, d, e + 12 + 3 + 5 + 2 + 4
    "adopted": 3,
    "partly_adopted": 2,
    "not_adopted": 2,
    "merged": 2,
    "decided": 9,
    "undecided": 2,
    "rate": "55.6%（2 条尚未处理）",
}
PUBLIC = {  # published decisions only
    "opinions": 11,
    "people": 31,
    "adopted": 2,
    "partly_adopted": 1,
    "not_adopted": 1,
    "merged": 1,
    "decided": 5,
    "undecided": 6,
    "rate": "60.0%（6 条尚未处理）",
}
# Liaison dashboard rows (public scope): opinions, people, decided, adopted, partly, not,
# merged, rate.
EAST_ROW = ["3", "20", "1", "1", "0", "0", "0", "100.0%（2 条尚未处理）"]
WEST_ROW = ["2", "6", "1", "0", "0", "1", "0", "0.0%（1 条尚未处理）"]
CITY_ROW = ["5", "26", "2", "1", "0", "1", "0", "50.0%（3 条尚未处理）"]
BY_CHANNEL = {"online": ("5", "4"), "liaison": ("5", "26"), "api": ("1", "1")}
BY_ARTICLE = {"none": ("2", "3"), "2": ("6", "23"), "3": ("3", "5")}


@dataclass
class Known:
    draft: Draft
    drafter: User
    east: LiaisonPoint
    west: LiaisonPoint
    east_staff: User


def _batch(draft, point, status) -> Submission:
    batch = Submission(liaison_point=point, draft=draft, status=status)
    if status == SubmissionStatus.submitted:
        batch.submitted_at = utcnow()
    db.session.add(batch)
    return batch


def _add(draft, article, *, channel, key, raised_by=1, batch=None, decision=None, published=False):
    articles = {a.number: a for a in draft.articles}
    now = utcnow()
    comment = Comment(
        draft=draft,
        article=articles[article] if article else None,
        article_number=article,
        body=f"意见：{key} {article} {decision}",
        stance=Stance.amend,
        channel=channel,
        submission=batch,
        participant_key=key,
        raised_by=raised_by,
        status=CommentStatus.decided if decision else CommentStatus.received,
        decision=decision,
        response="答复。" if decision else "",
        decided_at=now if decision else None,
        response_published_at=now if published else None,
        created_at=now - timedelta(days=3),
    )
    db.session.add(comment)
    return comment


def build_known(make_user, make_point) -> Known:
    """The draft and its opinions; the consultation has ended, results not yet published."""
    draft = make_draft(opens=-20, closes=-1)
    east = make_point(code="JZ-E01", name="东城联系点", name_en="East point")
    west = make_point(code="JZ-W01", name="西城联系点", name_en="West point")
    for article, key, decision, published in ONLINE:
        _add(
            draft, article, channel=Channel.online, key=key, decision=decision, published=published
        )
    for article, key, decision, published in API:
        _add(draft, article, channel=Channel.api, key=key, decision=decision, published=published)
    for point, rows, status in (
        (east, EAST, SubmissionStatus.submitted),
        (west, WEST, SubmissionStatus.submitted),
        (east, UNSUBMITTED, SubmissionStatus.draft),
    ):
        batch = _batch(draft, point, status)
        for article, people, decision, published in rows:
            _add(
                draft,
                article,
                channel=Channel.liaison,
                key=f"p:{point.id}",
                raised_by=people,
                batch=batch,
                decision=decision,
                published=published,
            )
    db.session.commit()
    return Known(
        draft=draft,
        drafter=make_user(Role.drafter),
        east=east,
        west=west,
        east_staff=make_user(Role.liaison, point=east),
    )


@pytest.fixture
def known(app, make_user, make_point) -> Known:
    return build_known(make_user, make_point)


def _client(app, user: User):
    client = app.test_client()
    response = client.post("/login", data={"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _page(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    return html.fromstring(response.get_data(as_text=True))


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _row(page, header: str) -> list[str]:
    """The data cells of the table row whose row header reads `header`."""
    rows = [tr for tr in page.iter("tr") if any(_text(th) == header for th in tr.findall("th"))]
    assert len(rows) == 1, header
    return [_text(td) for td in rows[0].findall("td")]


def _by_id(page, element_id: str) -> str:
    return _text(page.get_element_by_id(element_id))


def _data_rows(page, attribute: str) -> dict[str, list[str]]:
    return {
        tr.get(attribute): [_text(td) for td in tr.findall("td")]
        for tr in page.xpath(f"//tr[@{attribute}]")
    }


def _publish(known: Known) -> None:
    results.publish_results(known.draft, known.drafter)
    db.session.commit()


# --- the pages -------------------------------------------------------------------------------


def test_liaison_dashboard_and_overview(app, known):
    page = _page(_client(app, known.east_staff), "/liaison/")
    assert _row(page, "测试条例（草案）") == EAST_ROW
    assert _row(page, "本联系点合计") == EAST_ROW
    assert _row(page, "全市联系点合计") == CITY_ROW

    overview = _page(_client(app, known.drafter), "/liaison/overview")
    assert _row(overview, "JZ-E01 东城联系点") == EAST_ROW
    assert _row(overview, "JZ-W01 西城联系点") == WEST_ROW
    assert _row(overview, "全市联系点合计") == CITY_ROW


def test_workbench_statistics_and_index(app, known):
    client = _client(app, known.drafter)
    page = _page(client, "/review/drafts/test-draft/stats")
    assert _by_id(page, "figure-opinions") == str(STAFF["opinions"])
    assert _by_id(page, "figure-people") == str(STAFF["people"])
    assert _by_id(page, "figure-decided") == str(STAFF["decided"])
    assert _by_id(page, "figure-rate") == STAFF["rate"]
    decisions = _data_rows(page, "data-key")
    for decision in Decision:
        assert decisions[decision.value][1] == str(STAFF[decision.value]), decision
    assert decisions["undecided"] == ["尚未处理", str(STAFF["undecided"])]

    index = _page(client, "/review/")
    assert _row(index, "测试条例（草案）")[1:3] == ["11", "2"]


def test_results_page_and_reading_page(app, client, known):
    assert client.get("/drafts/test-draft/results").status_code == 404
    _publish(known)
    page = _page(client, "/drafts/test-draft/results")
    assert _by_id(page, "figure-opinions") == str(PUBLIC["opinions"])
    assert _by_id(page, "figure-people") == str(PUBLIC["people"])
    assert _by_id(page, "figure-rate") == PUBLIC["rate"]
    decisions = _data_rows(page, "data-decision")
    for decision in Decision:
        assert decisions[decision.value][1] == str(PUBLIC[decision.value]), decision
    assert decisions["undecided"] == ["尚未处理", str(PUBLIC["undecided"])]
    assert decisions["total"] == [str(PUBLIC["opinions"])]
    channels = _data_rows(page, "data-channel")
    assert {key: tuple(cells[1:]) for key, cells in channels.items()} == BY_CHANNEL
    articles = _data_rows(page, "data-article")
    assert {key: tuple(cells[1:]) for key, cells in articles.items()} == BY_ARTICLE

    english = _page(client, "/drafts/test-draft/results?lang=en")
    rate = _by_id(english, "figure-rate")  # "60.0% (6 undecided)" once the catalog has it
    assert rate.startswith("60.0% (6 ") and rate.endswith(")")

    reading = _page(client, "/drafts/test-draft?lang=zh_Hans_CN")
    facts = dict(zip(reading.xpath("//dt/text()"), reading.xpath("//dd"), strict=False))
    assert _text(facts["意见数"]) == "11" and _text(facts["参与人数"]) == "31"


def test_api_stats(client, known):
    before = client.get("/api/v1/drafts/test-draft/stats").get_json()
    assert before["comment_count"] == 11 and before["participant_count"] == 31
    assert before["decisions"] is None and before["adoption_rate"] is None
    assert before["decided"] is None and before["undecided"] is None

    _publish(known)
    stats = client.get("/api/v1/drafts/test-draft/stats").get_json()
    assert stats["comment_count"] == PUBLIC["opinions"]
    assert stats["participant_count"] == PUBLIC["people"]
    assert stats["decided"] == PUBLIC["decided"]
    assert stats["undecided"] == PUBLIC["undecided"]
    assert stats["adoption_rate"] == pytest.approx(0.6)
    decisions = {d["decision"]: d["comments"] for d in stats["decisions"]}
    assert decisions == {
        **{decision.value: PUBLIC[decision.value] for decision in Decision},
        "none": PUBLIC["undecided"],
    }
    channels = {
        c["channel"]: (str(c["comments"]), str(c["participants"])) for c in stats["by_channel"]
    }
    assert channels == BY_CHANNEL
    articles = {
        str(a["article"]): (str(a["comments"]), str(a["participants"])) for a in stats["by_article"]
    }
    assert articles["2"] == BY_ARTICLE["2"] and articles["3"] == BY_ARTICLE["3"]
    assert stats["whole_draft"] == int(BY_ARTICLE["none"][0])
    listed = client.get("/api/v1/drafts").get_json()["items"]
    assert [(d["comment_count"], d["participant_count"]) for d in listed] == [(11, 31)]


# --- the documents ---------------------------------------------------------------------------


def _docx(data: bytes) -> tuple[list[list[list[str]]], str]:
    document = Document(io.BytesIO(data))
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]
    return tables, "\n".join(p.text for p in document.paragraphs)


def _check_report(data: bytes, expected: dict, points: list[list[str]]) -> str:
    tables, text = _docx(data)
    overview, channels, decisions, point_table = tables[:4]
    assert overview == [
        ["意见总数", str(expected["opinions"])],
        ["参与人数", str(expected["people"])],
        ["已处理", str(expected["decided"])],
        ["尚未处理", str(expected["undecided"])],
        ["采纳率", expected["rate"]],
    ]
    assert channels[1:] == [
        ["网上征求意见", "5"],
        ["基层立法联系点", "5"],
        ["系统对接", "1"],
        ["合计", "11"],
    ]
    counts = {row[0]: row[1] for row in decisions[1:]}
    assert counts == {
        "采纳": str(expected["adopted"]),
        "部分采纳": str(expected["partly_adopted"]),
        "未采纳": str(expected["not_adopted"]),
        "已合并": str(expected["merged"]),
        "尚未处理": str(expected["undecided"]),
        "合计": "11",
    }
    assert point_table[1:] == points
    return text


def test_report_for_the_team_counts_every_decision(app, known):
    client = _client(app, known.drafter)
    response = job_download(client, "/review/drafts/test-draft/report.docx")
    assert response.status_code == 200
    text = _check_report(
        response.data,
        STAFF,
        [
            ["东城联系点", "3", "20", "1", "1", "100.0%（1 条尚未处理）"],
            ["西城联系点", "2", "6", "0", "0", "0.0%（0 条尚未处理）"],
            ["合计", "5", "26", "1", "1", "50.0%（1 条尚未处理）"],
        ],
    )
    assert "统计范围：起草小组作出的全部处理决定" in text
    article_2 = text[text.index("\n第二条") : text.index("\n第三条")]
    assert "意见数：6；提出人数：23" in article_2
    assert "处理结果：采纳 3、部分采纳 1、未采纳 1、尚未处理 1" in article_2
    assert "采纳率：80.0%（1 条尚未处理）" in article_2


def test_published_report_agrees_with_the_results_page(client, known):
    _publish(known)
    response = client.get("/drafts/test-draft/results/report.docx")
    assert response.status_code == 200
    text = _check_report(
        response.data,
        PUBLIC,
        [
            ["东城联系点", "3", "20", "1", "0", "100.0%（2 条尚未处理）"],
            ["西城联系点", "2", "6", "0", "0", "0.0%（1 条尚未处理）"],
            ["合计", "5", "26", "1", "0", "50.0%（3 条尚未处理）"],
        ],
    )
    assert "统计范围：只计已公开答复的处理结果" in text


def test_export_rows_add_up_to_the_figures(app, known):
    """The export has no totals: one row per counted opinion, with its decision."""
    from portal.search.backend import get_backend

    get_backend().rebuild()
    response = job_download(_client(app, known.drafter), "/review/drafts/test-draft/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert len(body) == STAFF["opinions"]
    decisions = [row[header.index("处理结果")] for row in body]
    assert decisions.count("采纳") == STAFF["adopted"]
    assert decisions.count("部分采纳") == STAFF["partly_adopted"]
    assert decisions.count("未采纳") == STAFF["not_adopted"]
    assert decisions.count("已合并") == STAFF["merged"]
    assert sum(1 for d in decisions if not d) == STAFF["undecided"]
