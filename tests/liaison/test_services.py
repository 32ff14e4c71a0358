"""Liaison rules without HTTP: batches, article detection, submitting, figures."""

from datetime import date, timedelta

import pytest

from portal.comments.services import record_decision
from portal.extensions import db
from portal.liaison import services as liaison
from portal.liaison.services import LiaisonError, OpinionData
from portal.models import (
    Assignment,
    Channel,
    CommentStatus,
    Decision,
    IndexJob,
    Role,
    Stance,
    Submission,
    SubmissionStatus,
    utcnow,
)

META = {
    "method": "forum",
    "held_on": date(2026, 11, 20),
    "place": "社区会议室",
    "participants": 12,
    "participants_residents": 8,
    "participants_experts": 2,
    "participants_other": 2,
}


def new_batch(points, draft, who="east"):
    submission = liaison.create_submission(points[who], draft, META, points[f"{who}_staff"])
    db.session.commit()
    return submission


def test_opinions_detect_their_article(two_points, open_draft):
    batch = new_batch(two_points, open_draft)
    created = liaison.add_opinions(
        batch,
        [
            OpinionData(body="建议第2条增加对小区的规定。"),
            OpinionData(body="对第二条第二款有意见。"),
            OpinionData(body="总体上赞成。", stance=Stance.support),
            OpinionData(body="第九十九条不存在，这里只是提到。"),
            OpinionData(body="提到第二条，但我们选择全文", article_fixed=True),
            OpinionData(body="手动指定", article=3, article_fixed=True, raised_by=5),
        ],
        two_points["east_staff"],
    )
    db.session.commit()
    assert [c.article_number for c in created] == [2, 2, None, None, None, 3]
    assert created[5].raised_by == 5
    assert all(c.channel == Channel.liaison for c in created)
    assert db.session.scalar(db.select(db.func.count(IndexJob.id))) == 0  # not visible yet


def test_add_opinions_is_all_or_nothing(two_points, open_draft):
    batch = new_batch(two_points, open_draft)
    with pytest.raises(LiaisonError) as info:
        liaison.add_opinions(
            batch,
            [OpinionData(body="好的意见"), OpinionData(body="  "), OpinionData(body="另一条")],
            two_points["east_staff"],
        )
    assert info.value.code == "empty_body" and info.value.params["index"] == 1
    db.session.rollback()
    assert len(db.session.get(type(batch), batch.id).comments) == 0


def test_unknown_article_is_refused(two_points, open_draft):
    batch = new_batch(two_points, open_draft)
    with pytest.raises(LiaisonError) as info:
        liaison.add_opinions(
            batch, [OpinionData(body="x", article=77, article_fixed=True)], two_points["east_staff"]
        )
    assert info.value.code == "article_unknown"


@pytest.mark.parametrize("total", [5, 13])
def test_participant_breakdown_must_equal_the_total(two_points, open_draft, total):
    with pytest.raises(LiaisonError) as info:
        liaison.create_submission(
            two_points["east"],
            open_draft,
            {**META, "participants": total},
            two_points["east_staff"],
        )
    assert info.value.code == "breakdown_mismatch"
    assert info.value.params == {"total": total, "parts": 12}
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


def test_a_total_without_breakdown_is_accepted(two_points, open_draft):
    data = {"held_on": date(2026, 11, 20), "participants": 40}
    batch = liaison.create_submission(
        two_points["east"], open_draft, data, two_points["east_staff"]
    )
    assert batch.participants == 40 and batch.participants_residents == 0


def test_breakdown_is_checked_on_edit_and_again_on_submit(two_points, open_draft):
    batch = new_batch(two_points, open_draft)
    liaison.add_opinions(batch, [OpinionData(body="一条意见")], two_points["east_staff"])
    with pytest.raises(LiaisonError) as info:
        liaison.update_submission(
            batch, {**META, "participants_other": 3}, two_points["east_staff"]
        )
    assert info.value.params == {"total": 12, "parts": 13}
    db.session.rollback()
    assert db.session.get(Submission, batch.id).participants_other == 2
    # A batch saved before the rule (or by a path that skipped it) cannot be sent as it is.
    batch = db.session.get(Submission, batch.id)
    batch.participants = 15
    db.session.commit()
    with pytest.raises(LiaisonError) as info:
        liaison.submit(batch, two_points["east_staff"])
    assert info.value.code == "breakdown_mismatch"
    assert info.value.params == {"total": 15, "parts": 12}


def test_submit_locks_receipts_and_indexes(two_points, open_draft):
    batch = new_batch(two_points, open_draft)
    liaison.add_opinions(
        batch,
        [OpinionData(body="第一条意见"), OpinionData(body="第二条意见")],
        two_points["east_staff"],
    )
    liaison.submit(batch, two_points["east_staff"])
    db.session.commit()
    assert batch.status == SubmissionStatus.submitted
    assert batch.submitted_at is not None and batch.receipt_code
    assert db.session.scalar(db.select(db.func.count(IndexJob.id))) == 2
    with pytest.raises(LiaisonError) as info:
        liaison.add_opinions(batch, [OpinionData(body="晚到的意见")], two_points["east_staff"])
    assert info.value.code == "already_submitted"
    with pytest.raises(LiaisonError):
        liaison.update_submission(batch, META, two_points["east_staff"])
    with pytest.raises(LiaisonError):
        liaison.delete_opinion(batch.comments[0])


def test_empty_batch_or_missing_date_cannot_be_submitted(two_points, open_draft):
    batch = new_batch(two_points, open_draft)
    with pytest.raises(LiaisonError) as info:
        liaison.submit(batch, two_points["east_staff"])
    assert info.value.code == "no_opinions"
    liaison.update_submission(batch, {**META, "held_on": None}, two_points["east_staff"])
    liaison.add_opinions(batch, [OpinionData(body="有意见")], two_points["east_staff"])
    with pytest.raises(LiaisonError) as info:
        liaison.submit(batch, two_points["east_staff"])
    assert info.value.code == "held_on_required"


def test_access_is_limited_to_own_point(two_points, open_draft, make_user):
    batch = new_batch(two_points, open_draft)
    assert liaison.get_submission(two_points["east_staff"], batch.id) is batch
    assert liaison.get_submission(two_points["west_staff"], batch.id) is None
    drafter = make_user(Role.drafter)
    assert liaison.get_submission(drafter, batch.id) is None  # a draft batch is invisible
    liaison.add_opinions(batch, [OpinionData(body="意见")], two_points["east_staff"])
    liaison.submit(batch, two_points["east_staff"])
    db.session.commit()
    assert liaison.get_submission(drafter, batch.id) is batch
    citizen = make_user(Role.citizen)
    assert liaison.get_submission(citizen, batch.id) is None


def test_assignment_states(two_points, open_draft, make_user):
    drafter = make_user(Role.drafter)
    today = utcnow().date()
    [assignment] = liaison.assign_draft(
        open_draft,
        [two_points["east"]],
        due_on=today + timedelta(days=30),
        focus_questions="第二条的适用范围是否合适？",
        actor=drafter,
    )
    # Sending again updates rather than duplicates.
    liaison.assign_draft(
        open_draft,
        [two_points["east"]],
        due_on=today + timedelta(days=3),
        focus_questions="",
        actor=drafter,
    )
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 1
    assert liaison.assignment_state(assignment, 0, today) == "due_soon"
    assert liaison.assignment_state(assignment, 0, today + timedelta(days=10)) == "overdue"
    assignment.due_on = today + timedelta(days=20)
    assert liaison.assignment_state(assignment, 0, today) == "open"
    assert liaison.assignment_state(assignment, 1, today) == "done"
    views = liaison.assignments_for_point(two_points["east"])
    assert [v.state for v in views] == ["open"]
    batch = new_batch(two_points, open_draft)
    assert batch.assignment_id == assignment.id
    liaison.add_opinions(batch, [OpinionData(body="意见")], two_points["east_staff"])
    liaison.submit(batch, two_points["east_staff"])
    db.session.commit()
    assert assignment.completed_at is not None
    assert [v.state for v in liaison.assignments_for_point(two_points["east"])] == ["done"]


def test_figures_and_overview(two_points, open_draft, make_user):
    drafter = make_user(Role.drafter)
    liaison.assign_draft(
        open_draft,
        [two_points["east"], two_points["west"]],
        due_on=utcnow().date() + timedelta(days=10),
        focus_questions="",
        actor=drafter,
    )
    batch = new_batch(two_points, open_draft)
    comments = liaison.add_opinions(
        batch,
        [OpinionData(body=f"意见{n}", raised_by=n + 1) for n in range(4)],
        two_points["east_staff"],
    )
    liaison.submit(batch, two_points["east_staff"])
    db.session.commit()
    for comment, decision, publish in [
        (comments[0], Decision.adopted, True),
        (comments[1], Decision.partly_adopted, True),
        (comments[2], Decision.not_adopted, True),
        (comments[3], Decision.adopted, False),  # decided but not published: not counted
    ]:
        record_decision(
            comment,
            actor=drafter,
            status=CommentStatus.decided,
            decision=decision,
            response="答复",
            publish=publish,
        )
    db.session.commit()
    dashboard = liaison.point_dashboard(two_points["east"])
    totals = dashboard.totals
    assert (totals.opinions, totals.people, totals.decided) == (4, 10, 3)
    assert (totals.adopted, totals.partly_adopted) == (1, 1)
    assert totals.adoption_rate == pytest.approx(2 / 3)
    assert dashboard.city.opinions == 4 and dashboard.rank == 1
    rows, city = liaison.overview()
    pending = {row.point.code: [a.draft_id for a in row.pending] for row in rows}
    assert pending["JZ-E01"] == [] and pending["JZ-W01"] == [open_draft.id]
    assert city.opinions == 4


def test_point_opinions_are_only_submitted_ones(two_points, open_draft):
    first = new_batch(two_points, open_draft)
    liaison.add_opinions(first, [OpinionData(body="已报送")], two_points["east_staff"])
    liaison.submit(first, two_points["east_staff"])
    second = new_batch(two_points, open_draft)
    liaison.add_opinions(second, [OpinionData(body="草稿中")], two_points["east_staff"])
    other = new_batch(two_points, open_draft, who="west")
    liaison.add_opinions(other, [OpinionData(body="西城的")], two_points["west_staff"])
    liaison.submit(other, two_points["west_staff"])
    db.session.commit()
    bodies = [c.body for c in liaison.point_opinions(two_points["east"])]
    assert bodies == ["已报送"]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "pdf"),
        (b"\xff\xd8\xff\xe0" + b"0" * 20, "jpg"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 20, "png"),
        (b"MZ\x90\x00 executable", None),
        (b"<html><script>alert(1)</script>", None),
    ],
)
def test_attachment_type_is_judged_by_content(data, kind):
    assert liaison.sniff_type(data[:16], data) == kind


def test_office_files_are_recognised_by_their_members():
    import io

    import openpyxl
    from docx import Document

    buffer = io.BytesIO()
    Document().save(buffer)
    assert liaison.sniff_type(buffer.getvalue()[:16], buffer.getvalue()) == "docx"
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    assert liaison.sniff_type(buffer.getvalue()[:16], buffer.getvalue()) == "xlsx"
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.exe", b"MZ")
    assert liaison.sniff_type(buffer.getvalue()[:16], buffer.getvalue()) is None


def test_attachment_is_stored_outside_static(two_points, open_draft, app):
    batch = new_batch(two_points, open_draft)
    attachment = liaison.save_attachment(
        batch, "../../纪要.pdf", b"%PDF-1.4 minutes", two_points["east_staff"]
    )
    db.session.commit()
    path = liaison.attachment_path(attachment)
    assert path.read_bytes() == b"%PDF-1.4 minutes"
    assert "static" not in str(path)
    assert attachment.filename == "纪要.pdf"
    with pytest.raises(LiaisonError) as info:
        liaison.save_attachment(batch, "x.pdf", b"MZ not a pdf", two_points["east_staff"])
    assert info.value.code == "attachment_type"


# --- the liaison window ----------------------------------------------------------------------


def at(draft, days: float):
    """A moment relative to the draft's closing, in days."""
    return draft.closes_at + timedelta(days=days)


def test_window_from_opening_to_closing_plus_grace(app, open_draft):
    opening = open_draft.opens_at
    assert liaison.window_problem(open_draft, opening - timedelta(seconds=1)).code == "not_open"
    assert liaison.window_problem(open_draft, opening) is None
    assert liaison.window_problem(open_draft, at(open_draft, 0)) is None  # just closed
    assert liaison.window_problem(open_draft, at(open_draft, 2.99)) is None  # grace
    late = liaison.window_problem(open_draft, at(open_draft, 3))
    assert late.code == "window_closed" and late.params["days"] == 3
    assert late.params["deadline"] == at(open_draft, 3)


def test_grace_days_come_from_the_configuration(app, open_draft):
    from flask import current_app

    current_app.config["LIAISON_GRACE_DAYS"] = 0
    assert liaison.window_problem(open_draft, at(open_draft, 0)).code == "window_closed"
    current_app.config["LIAISON_GRACE_DAYS"] = 10
    assert liaison.window_problem(open_draft, at(open_draft, 9)) is None


def test_grace_days_have_an_environment_override():
    from portal.config import DefaultConfig, apply_environment

    assert DefaultConfig.LIAISON_GRACE_DAYS == 3
    config: dict = {}
    apply_environment(config, {"PORTAL_LIAISON_GRACE_DAYS": "7"})
    assert config["LIAISON_GRACE_DAYS"] == 7


def test_closed_archived_published_and_unpublished_drafts(app, open_draft, make_user):
    from portal.models import DraftStatus

    within_grace = at(open_draft, 1)
    open_draft.status = DraftStatus.closed  # closed by hand: the grace period still applies
    assert liaison.window_problem(open_draft, within_grace) is None
    open_draft.results_published_at = utcnow()
    assert liaison.window_problem(open_draft, within_grace).code == "results_published"
    open_draft.results_published_at = None
    open_draft.status = DraftStatus.archived
    assert liaison.window_problem(open_draft, within_grace).code == "draft_archived"
    open_draft.status = DraftStatus.draft
    assert liaison.window_problem(open_draft, within_grace).code == "draft_unpublished"
    open_draft.status = DraftStatus.consulting
    open_draft.closes_at = None  # no closing date: not under consultation (Draft.phase)
    assert liaison.window_problem(open_draft).code == "not_open"
    assert liaison.window_problem(open_draft).params["opens_at"] is None


def test_every_building_action_follows_the_window(two_points, open_draft):
    staff = two_points["east_staff"]
    batch = new_batch(two_points, open_draft)
    [opinion] = liaison.add_opinions(batch, [OpinionData(body="第二条意见")], staff)
    db.session.commit()
    open_draft.closes_at = utcnow() - timedelta(days=4)  # and the 3 days' grace are over
    db.session.commit()
    for action in (
        lambda: liaison.create_submission(two_points["east"], open_draft, META, staff),
        lambda: liaison.update_submission(batch, META, staff),
        lambda: liaison.add_opinions(batch, [OpinionData(body="晚到的意见")], staff),
        lambda: liaison.update_opinion(opinion, OpinionData(body="改一改")),
        lambda: liaison.save_attachment(batch, "a.pdf", b"%PDF-1.4 x", staff),
        lambda: liaison.submit(batch, staff),
    ):
        with pytest.raises(LiaisonError) as info:
            action()
        assert info.value.code == "window_closed"
        db.session.rollback()
    # Tidying up a batch that was never sent is still possible.
    liaison.delete_opinion(db.session.get(type(opinion), opinion.id))
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1
    assert db.session.get(Submission, batch.id).status == SubmissionStatus.draft


# --- opinions the point already sent ----------------------------------------------------------


def sent_batch(two_points, draft, bodies, who="east"):
    batch = new_batch(two_points, draft, who)
    liaison.add_opinions(batch, [OpinionData(body=b) for b in bodies], two_points[f"{who}_staff"])
    liaison.submit(batch, two_points[f"{who}_staff"])
    db.session.commit()
    return batch


@pytest.mark.parametrize(
    ("earlier", "again"),
    [
        ("建议第二条增加老旧小区的规定。", "建议第二条增加老旧小区的规定。"),
        ("建议第二条增加老旧小区的规定。", "  建议 第二条 增加老旧小区的规定！"),  # spacing
        ("建议第12条写明WiFi覆盖。", "建议第十二条写明ＷｉＦｉ覆盖"),  # width, numerals
        ("垃圾分类，要（尽快）推行。", "垃圾分类要尽快推行..."),  # punctuation
    ],
)
def test_repeat_texts_are_compared_normalised(earlier, again):
    assert liaison.repeat_key(earlier) == liaison.repeat_key(again)


def test_different_texts_are_no_repeat():
    assert liaison.repeat_key("第二条罚款太高") != liaison.repeat_key("第二条罚款太低")


def test_repeats_of_the_points_own_sent_batches_only(two_points, open_draft, make_user):
    from tests.drafts.test_views import make_draft

    first = sent_batch(two_points, open_draft, ["第二条罚款太高。", "赞成立法。"])
    sent_batch(two_points, open_draft, ["西城：第三条要具体。"], who="west")
    unsent = new_batch(two_points, open_draft)
    liaison.add_opinions(unsent, [OpinionData(body="还没报送的意见。")], two_points["east_staff"])
    other_draft = make_draft(slug="other-draft")
    sent_batch(two_points, other_draft, ["别的草案的意见。"])
    batch = new_batch(two_points, open_draft)
    liaison.add_opinions(
        batch,
        [
            OpinionData(body="赞成立法！"),
            OpinionData(body="西城：第三条要具体。"),  # another point's: not a repeat
            OpinionData(body="还没报送的意见。"),  # an unsent batch's: not a repeat
            OpinionData(body="别的草案的意见。"),  # another draft's: not a repeat
            OpinionData(body="第二条罚款太高"),
        ],
        two_points["east_staff"],
    )
    db.session.commit()
    repeats = liaison.find_repeats(batch)
    assert [r.comment.body for r in repeats] == ["赞成立法！", "第二条罚款太高"]
    assert {r.earlier.submission_id for r in repeats} == {first.id}
    assert repeats[0].earlier.receipt_code == first.receipt_code
    assert repeats[0].earlier.comment_id == first.comments[1].id


def test_submit_warns_about_repeats_then_includes_or_leaves_them_out(two_points, open_draft):
    staff = two_points["east_staff"]
    sent_batch(two_points, open_draft, ["第二条罚款太高。"])

    def batch_with_repeat(new: str):
        batch = new_batch(two_points, open_draft)
        liaison.add_opinions(
            batch, [OpinionData(body="第二条罚款太高"), OpinionData(body=new)], staff
        )
        db.session.commit()
        return batch

    warned = batch_with_repeat("新意见")
    with pytest.raises(LiaisonError) as info:
        liaison.submit(warned, staff)
    assert info.value.code == "repeats_found" and info.value.params["count"] == 1
    db.session.rollback()
    assert db.session.get(Submission, warned.id).status == SubmissionStatus.draft

    liaison.submit(warned, staff, repeats=liaison.REPEATS_INCLUDE)
    db.session.commit()
    assert len(warned.comments) == 2 and warned.status == SubmissionStatus.submitted

    trimmed = batch_with_repeat("又一条新意见")
    liaison.submit(trimmed, staff, repeats=liaison.REPEATS_LEAVE_OUT)
    db.session.commit()
    assert [c.body for c in trimmed.comments] == ["又一条新意见"]

    # Nothing but repeats, left out: refused, and the batch keeps its opinions.
    nothing_new = batch_with_repeat("新意见")
    with pytest.raises(LiaisonError) as info:
        liaison.submit(nothing_new, staff, repeats=liaison.REPEATS_LEAVE_OUT)
    assert info.value.code == "all_repeats"
    db.session.rollback()
    assert len(db.session.get(Submission, nothing_new.id).comments) == 2


def test_leave_out_removes_every_repeat_in_one_action(two_points, open_draft):
    staff = two_points["east_staff"]
    sent_batch(two_points, open_draft, ["一", "第二条罚款太高。", "赞成立法。"])
    batch = new_batch(two_points, open_draft)
    liaison.add_opinions(
        batch,
        [
            OpinionData(body="赞成立法"),
            OpinionData(body="新的"),
            OpinionData(body="第二条罚款太高"),
        ],
        staff,
    )
    db.session.commit()
    removed = liaison.leave_out_repeats(batch, staff)
    db.session.commit()
    assert len(removed) == 2
    batch = db.session.get(Submission, batch.id)
    assert [c.body for c in batch.comments] == ["新的"]
    assert liaison.find_repeats(batch) == []
    liaison.submit(batch, staff)  # nothing left to warn about
    db.session.commit()
    assert batch.status == SubmissionStatus.submitted
