"""Fixtures for search tests: a draft with twelve articles, comment factories, a fresh
searcher cache per test (each test has its own INDEX_DIR under tmp_path)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from portal.comments import services
from portal.comments.services import ClientInfo, CommentInput
from portal.extensions import db
from portal.models import Channel, Comment, Submission, SubmissionStatus
from portal.numerals import int_to_chinese
from portal.search.index import close_all
from tests.drafts.test_views import make_draft

DRAFT_TEXT = "\n".join(
    ["搜索测试条例（草案）", "", "第一章　总则"]
    + [f"第{int_to_chinese(n)}条　第{n}条的内容。" for n in range(1, 7)]
    + ["第二章　管理"]
    + [f"第{int_to_chinese(n)}条　第{n}条的内容。" for n in range(7, 13)]
)


@pytest.fixture(autouse=True)
def _fresh_searchers():
    close_all()
    yield
    close_all()


@pytest.fixture
def draft(app):
    return make_draft(slug="search-draft", text=DRAFT_TEXT)


@pytest.fixture
def add_comment(app, draft) -> Callable[..., Comment]:
    """Submit an online opinion through the service and commit; each call is a new client."""
    clients = itertools.count(1)

    def add(body: str, *, on=None, **fields) -> Comment:
        data = CommentInput(body=body, **fields)
        client = ClientInfo(f"198.51.100.{next(clients)}", "pytest")
        result = services.submit_comment(on or draft, data, client=client)
        db.session.commit()
        return result.comment

    return add


@pytest.fixture
def add_liaison_comment(app, draft, make_point) -> Callable[..., Comment]:
    """A liaison point's opinion inside a submission (draft batch unless submitted=True)."""

    def add(
        body: str, *, point=None, submitted: bool = False, article: int | None = None, **fields
    ) -> Comment:
        point = point or make_point(district=fields.pop("point_district", "西湖区"))
        submission = Submission(
            liaison_point=point,
            draft=draft,
            status=SubmissionStatus.submitted if submitted else SubmissionStatus.draft,
        )
        comment = Comment(
            draft=draft,
            body=body,
            channel=Channel.liaison,
            submission=submission,
            article_number=article,
            **fields,
        )
        db.session.add_all([submission, comment])
        db.session.commit()  # the outbox (portal/search/outbox.py) writes the index job
        return comment

    return add
