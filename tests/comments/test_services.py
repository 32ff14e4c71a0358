"""Commenting rules, called without HTTP."""

from datetime import timedelta

import pytest

from portal.comments import services
from portal.comments.services import ClientInfo, CommentInput, CommentRejected
from portal.extensions import db
from portal.models import (
    AuditEntry,
    Comment,
    CommentStatus,
    Decision,
    DraftStatus,
    IndexJob,
    Role,
    Stance,
    utcnow,
)
from tests.drafts.test_views import make_draft

CLIENT = ClientInfo("203.0.113.5", "Mozilla/5.0 test", browser_id="test-browser-0001")


def submit(draft, client=CLIENT, **fields):
    data = CommentInput(body=fields.pop("body", "建议明确管理责任人的具体义务。"), **fields)
    result = services.submit_comment(draft, data, client=client)
    db.session.commit()
    return result


def test_accepts_an_article_comment_with_receipt_and_outbox(app):
    draft = make_draft()
    result = submit(draft, target="article-2", stance=Stance.amend)
    comment = result.comment
    assert result.created
    assert comment.article.number == 2 and comment.article_number == 2
    assert comment.chapter.number == 1
    assert comment.tracking_code and len(comment.tracking_code) == 19
    assert comment.status == CommentStatus.received
    jobs = db.session.scalars(db.select(IndexJob)).all()
    assert [(j.comment_id, j.action.value) for j in jobs] == [(comment.id, "upsert")]


@pytest.mark.parametrize(
    ("status", "opens", "closes"),
    [
        (DraftStatus.consulting, 1, 10),  # not yet open
        (DraftStatus.consulting, -10, -1),  # window passed
        (DraftStatus.closed, -1, 10),  # closed early by the team
        (DraftStatus.draft, -1, 10),  # unpublished
    ],
)
def test_refused_outside_the_window(app, status, opens, closes):
    draft = make_draft(status=status, opens=opens, closes=closes)
    with pytest.raises(CommentRejected) as info:
        submit(draft)
    assert info.value.code == "window_closed"


def test_window_is_checked_at_the_given_time(app):
    draft = make_draft(opens=-1, closes=1)
    with pytest.raises(CommentRejected):
        services.submit_comment(draft, CommentInput(body="x"), now=utcnow() + timedelta(days=2))


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"body": "   \n\t "}, "empty_body"),
        ({"body": "字" * 5001}, "body_too_long"),
        ({"target": "article-99"}, "bad_target"),
        ({"target": "chapter-9"}, "bad_target"),
        ({"target": "nonsense"}, "bad_target"),
        ({"contact": "13812341234"}, "consent_required"),
        ({"name": "张三"}, "consent_required"),
        ({"contact": "not-a-contact", "consent": True}, "bad_contact"),
        ({"quote": "引" * 1001}, "quote_too_long"),
    ],
)
def test_rejections(app, fields, code):
    draft = make_draft()
    with pytest.raises(CommentRejected) as info:
        submit(draft, **fields)
    assert info.value.code == code
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_contact_is_stored_only_with_consent(app):
    draft = make_draft()
    comment = submit(draft, name="张三", contact="138 1234 1234", consent=True).comment
    assert comment.contact == "13812341234"
    assert comment.consent_at is not None
    anonymous = submit(draft, body="另一条意见", consent=True).comment
    assert anonymous.consent_at is None and anonymous.contact == ""


def test_masking():
    assert services.mask_contact("13812341234") == "138****1234"
    assert services.mask_contact("zhang.san@example.org") == "z***@example.org"
    assert services.mask_name("张三丰") == "张**"
    assert services.mask_contact("") == ""


def test_idempotency_key_returns_the_first_comment(app):
    draft = make_draft()
    first = submit(draft, idempotency_key="k1")
    again = submit(draft, idempotency_key="k1", body="改过的文字")
    assert first.created and not again.created
    assert again.comment.id == first.comment.id
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 1


def test_same_text_from_the_same_browser_on_the_same_target_is_one_comment(app):
    draft = make_draft()
    first = submit(draft, target="article-1", body="建议  删除本条。")
    again = submit(draft, target="article-1", body="建议删除本条。\n")
    assert not again.created and again.comment.id == first.comment.id
    # Another article, the chapter or the whole draft, or after the window: separate opinions.
    assert submit(draft, target="article-2", body="建议删除本条。").created
    assert submit(draft, target="chapter-1", body="建议删除本条。").created
    assert submit(draft, target="draft", body="建议删除本条。").created
    later = services.submit_comment(
        draft,
        CommentInput(body="建议删除本条。", target="article-1"),
        client=CLIENT,
        now=utcnow() + timedelta(minutes=11),
    )
    assert later.created


def test_people_sharing_an_address_and_browser_are_never_merged(app):
    """A household, an office or a carrier NAT: one address, one browser version, one text."""
    draft = make_draft()
    mine = submit(draft, target="article-1", name="张三", contact="13800000001", consent=True)
    theirs = submit(
        draft,
        client=ClientInfo(CLIENT.address, CLIENT.user_agent, browser_id="another-browser-0002"),
        target="article-1",
        name="李四",
        contact="13800000002",
        consent=True,
    )
    assert mine.created and theirs.created
    assert mine.comment.id != theirs.comment.id
    assert mine.comment.tracking_code != theirs.comment.tracking_code
    assert theirs.comment.name == "李四" and theirs.comment.contact == "13800000002"
    assert mine.comment.participant_key != theirs.comment.participant_key


def test_anonymous_api_calls_without_a_browser_are_never_merged_by_text(app):
    draft = make_draft()
    caller = ClientInfo("198.51.100.9", "app/1.0")
    first = submit(draft, client=caller, target="article-1")
    second = submit(draft, client=caller, target="article-1")
    assert first.created and second.created
    assert first.comment.submitter_hash == second.comment.submitter_hash == ""
    assert first.comment.participant_key != second.comment.participant_key


def test_an_account_repeating_itself_is_recognised_in_any_browser(app, make_user):
    draft = make_draft()
    citizen = make_user(Role.citizen)
    data = CommentInput(body="建议增加听证程序。", target="article-2")
    first = services.submit_comment(draft, data, author=citizen, client=CLIENT)
    elsewhere = ClientInfo("192.0.2.1", "other", browser_id="phone-browser-000001")
    again = services.submit_comment(draft, data, author=citizen, client=elsewhere)
    assert first.created and not again.created and again.comment.id == first.comment.id
    # The same text from the same browser before logging in belongs to nobody's account: the
    # logged-in opinion is its own, and reaches "my comments".
    anonymous = submit(draft, body="建议增加公开征求意见的期限。", target="article-2")
    logged_in = services.submit_comment(
        draft,
        CommentInput(body="建议增加公开征求意见的期限。", target="article-2"),
        author=citizen,
        client=CLIENT,
    )
    assert anonymous.created and logged_in.created
    assert logged_in.comment in services.comments_by_author(citizen)
    assert anonymous.comment not in services.comments_by_author(citizen)


def test_scoped_idempotency_keys_differ_per_scope(app):
    key = services.scoped_idempotency_key
    assert key(None, "form", "b1") is None and key("", "form", "b1") is None
    assert key("k1", "form", "b1") == key("k1", "form", "b1")
    assert key("k1", "form", "b1") != key("k1", "form", "b2")
    assert len(key("k" * 500, "form", "b1")) <= 64


def test_participants_are_counted_once_per_account_or_browser(app, make_user):
    from portal.drafts.services import participation_by_article, participation_by_draft

    draft = make_draft()
    submit(draft, target="article-1", body="一")
    submit(draft, target="article-1", body="二")
    other = ClientInfo(CLIENT.address, CLIENT.user_agent, browser_id="another-browser-0002")
    submit(draft, client=other, target="article-2", body="三")
    counts = participation_by_draft([draft.id])[draft.id]
    assert (counts.comments, counts.participants) == (3, 2)
    per_article = participation_by_article(draft.id)
    first = next(a for a in draft.articles if a.number == 1)
    assert (per_article[first.id].comments, per_article[first.id].participants) == (2, 1)


def test_a_declared_shared_phone_does_not_merge_people(app):
    """Two members of a household giving the family's phone are two participants."""
    from portal.drafts.services import participation_by_draft

    draft = make_draft()
    for n in range(2):
        client = ClientInfo(CLIENT.address, CLIENT.user_agent, browser_id=f"family-browser-{n:04d}")
        submit(draft, client=client, body=f"意见{n}", contact="13800000000", consent=True)
    assert participation_by_draft([draft.id])[draft.id].participants == 2


def test_lookup_by_code_forgives_typing_and_hides_unknown(app):
    draft = make_draft()
    comment = submit(draft).comment
    assert services.find_by_code(comment.tracking_code.lower().replace("-", " ")) == comment
    assert services.find_by_code("0000-0000-0000-0000") is None
    assert services.find_by_code("garbage") is None


def test_decision_is_private_until_published_and_audited(app, make_user):
    draft = make_draft()
    comment = submit(draft).comment
    drafter = make_user(Role.drafter)
    services.record_decision(
        comment,
        actor=drafter,
        status=CommentStatus.under_review,
        decision=Decision.adopted,
        response="已在第二条中增加相关规定。",
        publish=False,
    )
    db.session.commit()
    hidden = services.public_status(comment)
    assert hidden.decision is None and hidden.response == ""
    assert hidden.status == CommentStatus.under_review

    services.record_decision(
        comment,
        actor=drafter,
        status=CommentStatus.decided,
        decision=Decision.adopted,
        response="已在第二条中增加相关规定。",
        publish=True,
    )
    db.session.commit()
    shown = services.public_status(comment)
    assert shown.decision == Decision.adopted
    assert shown.response == "已在第二条中增加相关规定。"
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action == "comment.decided")
    ).all()
    assert len(entries) == 2 and all(e.actor_id == drafter.id for e in entries)
    assert comment.decided_by_id == drafter.id


def test_publishing_needs_a_decision_and_a_response(app, make_user):
    draft = make_draft()
    comment = submit(draft).comment
    with pytest.raises(CommentRejected):
        services.record_decision(
            comment,
            actor=make_user(Role.drafter),
            status=CommentStatus.decided,
            decision=None,
            response="",
            publish=True,
        )
