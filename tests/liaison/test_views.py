"""Liaison pages through HTTP, above all: one point never reaches another point's data."""

import io
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.liaison import services as liaison
from portal.liaison.services import OpinionData
from portal.models import Assignment, Comment, Role, Submission, SubmissionStatus, utcnow
from tests.conftest import PASSWORD

META = {
    "draft": "test-draft",
    "method": "visit",
    "held_on": "2026-11-20",
    "place": "东城社区",
    "participants": "10",
    "participants_residents": "6",
    "participants_businesses": "2",
    "participants_experts": "0",
    "participants_deputies": "1",
    "participants_other": "1",
    "summary": "走访居民和商户。",
}


def client_for(app, user):
    client = app.test_client()
    response = client.post("/login", data={"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def make_batch(points, draft, who="east", submitted=False, attachment=False):
    batch = liaison.create_submission(
        points[who],
        draft,
        {"method": "forum", "held_on": utcnow().date(), "participants": 3},
        points[f"{who}_staff"],
    )
    liaison.add_opinions(
        batch, [OpinionData(body=f"{who} 的意见：第二条应当修改。")], points[f"{who}_staff"]
    )
    if attachment:
        liaison.save_attachment(
            batch, "minutes.pdf", b"%PDF-1.4 secret minutes", points[f"{who}_staff"]
        )
    if submitted:
        liaison.submit(batch, points[f"{who}_staff"])
    db.session.commit()
    return batch


def test_staff_builds_and_submits_a_batch(app, two_points, open_draft):
    client = client_for(app, two_points["east_staff"])
    response = client.post("/liaison/submissions/new", data=META)
    assert response.status_code == 302
    batch = db.session.scalar(db.select(Submission))
    assert batch.liaison_point_id == two_points["east"].id
    assert batch.participants_residents == 6
    url = f"/liaison/submissions/{batch.id}"
    added = client.post(
        f"{url}/opinions",
        data={
            "op-body": "建议第二条增加物业企业的告知义务。",
            "op-article": "auto",
            "op-stance": "amend",
            "op-identity": "resident",
            "op-raised_by": "4",
        },
    )
    assert added.status_code == 302
    comment = db.session.scalar(db.select(Comment))
    assert comment.article_number == 2 and comment.raised_by == 4
    # Corrected by hand: it was really about article 3.
    fixed = client.post(
        f"{url}/opinions/{comment.id}",
        data={
            "body": comment.body,
            "article": "3",
            "stance": "amend",
            "identity": "resident",
            "raised_by": "4",
        },
    )
    assert fixed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).article_number == 3
    attached = client.post(
        f"{url}/attachments",
        data={
            "attach-file": (io.BytesIO(b"%PDF-1.4 minutes"), "纪要.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert attached.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "纪要.pdf" in page and "尚未报送" in page
    submitted = client.post(f"{url}/submit")
    assert submitted.status_code == 302
    db.session.expire_all()
    batch = db.session.get(Submission, batch.id)
    assert batch.status == SubmissionStatus.submitted
    page = client.get(url).get_data(as_text=True)
    assert batch.receipt_code in page
    # Locked: further changes are refused.
    late = client.post(
        f"{url}/opinions",
        data={"op-body": "晚了", "op-article": "auto", "op-stance": "other", "op-raised_by": "1"},
    )
    assert late.status_code == 409
    assert "已经报送，不能再修改" in late.get_data(as_text=True)


def test_wrong_attachment_type_is_refused_with_message(app, two_points, open_draft):
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    response = client.post(
        f"/liaison/submissions/{batch.id}/attachments",
        data={"attach-file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "minutes.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "只能上传 PDF" in response.get_data(as_text=True)
    assert not db.session.get(Submission, batch.id).attachments


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/liaison/submissions/{batch}"),
        ("post", "/liaison/submissions/{batch}/meta"),
        ("post", "/liaison/submissions/{batch}/opinions"),
        ("get", "/liaison/submissions/{batch}/opinions/{comment}"),
        ("post", "/liaison/submissions/{batch}/opinions/{comment}"),
        ("post", "/liaison/submissions/{batch}/opinions/{comment}/delete"),
        ("post", "/liaison/submissions/{batch}/import"),
        ("post", "/liaison/submissions/{batch}/attachments"),
        ("post", "/liaison/submissions/{batch}/submit"),
        ("get", "/liaison/attachments/{attachment}"),
        ("post", "/liaison/attachments/{attachment}/delete"),
    ],
)
def test_another_points_staff_gets_404_everywhere(app, two_points, open_draft, method, path):
    batch = make_batch(two_points, open_draft, who="east", attachment=True)
    comment = batch.comments[0]
    attachment = batch.attachments[0]
    intruder = client_for(app, two_points["west_staff"])
    url = path.format(batch=batch.id, comment=comment.id, attachment=attachment.id)
    data = {
        "op-body": "篡改",
        "body": "篡改",
        "op-article": "auto",
        "article": "whole",
        "op-stance": "other",
        "stance": "other",
        "op-raised_by": "1",
        "raised_by": "1",
        **META,
    }
    response = getattr(intruder, method)(url, data=data)
    assert response.status_code == 404
    db.session.expire_all()
    batch = db.session.get(Submission, batch.id)
    assert batch.status == SubmissionStatus.draft
    assert [c.body for c in batch.comments] == ["east 的意见：第二条应当修改。"]
    assert len(batch.attachments) == 1
    assert b"secret minutes" not in response.data


def test_feedback_and_home_show_only_own_point(app, two_points, open_draft):
    make_batch(two_points, open_draft, who="east", submitted=True)
    make_batch(two_points, open_draft, who="west", submitted=True)
    client = client_for(app, two_points["west_staff"])
    feedback = client.get("/liaison/feedback").get_data(as_text=True)
    assert "west 的意见" in feedback and "east 的意见" not in feedback
    home = client.get("/liaison/").get_data(as_text=True)
    assert "西城联系点" in home and "东城联系点" not in home


def test_drafter_reads_submitted_batches_but_never_edits(app, two_points, open_draft, make_user):
    draft_batch = make_batch(two_points, open_draft, who="east", attachment=True)
    done = make_batch(two_points, open_draft, who="west", submitted=True, attachment=True)
    drafter = client_for(app, make_user(Role.drafter))
    assert drafter.get(f"/liaison/submissions/{draft_batch.id}").status_code == 404
    assert drafter.get(f"/liaison/attachments/{draft_batch.attachments[0].id}").status_code == 404
    assert drafter.get(f"/liaison/submissions/{done.id}").status_code == 200
    with drafter.get(f"/liaison/attachments/{done.attachments[0].id}") as download:
        assert download.status_code == 200
        assert download.data == b"%PDF-1.4 secret minutes"
        assert download.headers["Content-Type"] == "application/pdf"
        assert "attachment" in download.headers["Content-Disposition"]
    assert drafter.post(f"/liaison/submissions/{done.id}/opinions").status_code == 403


@pytest.mark.parametrize("role", [Role.citizen, Role.drafter, Role.admin])
def test_liaison_pages_need_liaison_role(app, open_draft, make_user, role):
    client = client_for(app, make_user(role))
    for url in ("/liaison/", "/liaison/submissions/new", "/liaison/feedback"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", [Role.citizen, Role.liaison])
def test_overview_and_assign_are_for_the_drafting_team(
    app, open_draft, make_user, make_point, role
):
    user = make_user(role, point=make_point() if role == Role.liaison else None)
    client = client_for(app, user)
    assert client.get("/liaison/overview").status_code == 403
    assert client.get("/liaison/assign").status_code == 403
    response = client.post(
        "/liaison/assign", data={"draft": "test-draft", "all_points": "y", "due_on": "2026-12-31"}
    )
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


def test_assign_to_all_points_and_see_who_has_not_submitted(app, two_points, open_draft, make_user):
    client = client_for(app, make_user(Role.drafter))
    due = (utcnow().date() + timedelta(days=14)).isoformat()
    response = client.post(
        "/liaison/assign",
        data={
            "draft": "test-draft",
            "all_points": "y",
            "due_on": due,
            "focus_questions": "第二条的适用范围？",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 2
    make_batch(two_points, open_draft, who="east", submitted=True)
    overview = client.get("/liaison/overview").get_data(as_text=True)
    pending = overview.split("尚未报送的联系点")[1].split("</section>")[0]
    assert "JZ-W01" in pending and "JZ-E01" not in pending
    home = client_for(app, two_points["west_staff"]).get("/liaison/").get_data(as_text=True)
    assert "第二条的适用范围？" in home


def test_assign_needs_points(app, open_draft, make_user):
    client = client_for(app, make_user(Role.drafter))
    response = client.post("/liaison/assign", data={"draft": "test-draft", "due_on": "2026-12-31"})
    assert "请至少选择一个联系点" in response.get_data(as_text=True)


def test_point_sees_published_decisions(app, two_points, open_draft, make_user):
    from portal.comments.services import record_decision
    from portal.models import CommentStatus, Decision

    batch = make_batch(two_points, open_draft, who="east", submitted=True)
    drafter = make_user(Role.drafter)
    record_decision(
        batch.comments[0],
        actor=drafter,
        status=CommentStatus.decided,
        decision=Decision.adopted,
        response="已在第二条中采纳。",
        publish=True,
    )
    db.session.commit()
    client = client_for(app, two_points["east_staff"])
    page = client.get("/liaison/feedback").get_data(as_text=True)
    assert "已在第二条中采纳。" in page and "采纳" in page
    home = client.get("/liaison/").get_data(as_text=True)
    # 1 of 1 published decisions adopted; the rate always comes with the undecided (none here).
    assert "100.0%（0 条尚未处理）" in home


def test_admin_manages_points_and_staff(app, make_user):
    admin = client_for(app, make_user(Role.admin))
    created = admin.post(
        "/admin/points/new",
        data={
            "code": "JZ-M77",
            "name": "新区联系点",
            "level": "municipal",
            "district": "新区",
        },
    )
    assert created.status_code == 302
    from portal.models import LiaisonPoint, User

    point = db.session.scalar(db.select(LiaisonPoint).where(LiaisonPoint.code == "JZ-M77"))
    added = admin.post(
        f"/admin/points/{point.id}",
        data={
            "staff-name": "陈联络",
            "staff-email": "chen@example.org",
            "staff-password": "long-enough-1",
            "staff-submit": "1",
        },
    )
    assert added.status_code == 302
    staff = db.session.scalar(db.select(User).where(User.email == "chen@example.org"))
    assert staff.role == Role.liaison and staff.liaison_point_id == point.id
    duplicate = admin.post(
        "/admin/points/new", data={"code": "JZ-M77", "name": "重复", "level": "municipal"}
    )
    assert "这个编号已被使用" in duplicate.get_data(as_text=True)
    admin.post(f"/admin/points/{point.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert not db.session.get(LiaisonPoint, point.id).active
    assert not db.session.get(User, staff.id).active  # staff of a closed point cannot log in
    refused = app.test_client().post(
        "/login", data={"login": "chen@example.org", "password": "long-enough-1"}
    )
    assert refused.status_code == 200


def test_admin_pages_are_for_admins(app, make_user):
    drafter = client_for(app, make_user(Role.drafter))
    for url in ("/admin/points", "/admin/points/new", "/admin/accounts"):
        assert drafter.get(url).status_code == 403


def test_admin_creates_drafting_team_accounts(app, make_user):
    admin = client_for(app, make_user(Role.admin))
    response = admin.post(
        "/admin/accounts",
        data={
            "role": "drafter",
            "name": "新同事",
            "email": "new@example.org",
            "password": "long-enough-1",
        },
    )
    assert response.status_code == 302
    from portal.models import User

    assert db.session.scalar(db.select(User.role).where(User.email == "new@example.org")) == (
        Role.drafter
    )


def test_drafting_team_cannot_see_opinions_of_unsubmitted_batches(
    app, two_points, open_draft, make_user
):
    batch = make_batch(two_points, open_draft, who="east")
    comment_id = batch.comments[0].id
    drafter = client_for(app, make_user(Role.drafter))
    assert drafter.get(f"/review/comments/{comment_id}").status_code == 404
    listing = drafter.get("/review/drafts/test-draft/comments").get_data(as_text=True)
    assert "east 的意见" not in listing
    liaison.submit(db.session.get(Submission, batch.id), two_points["east_staff"])
    db.session.commit()
    assert drafter.get(f"/review/comments/{comment_id}").status_code == 200
    assert "east 的意见" in drafter.get("/review/drafts/test-draft/comments").get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "article"),
    [
        ("建议第十二条增加一款", 12),
        ("第12条表述不清", 12),
        ("关于第三章第十二条", 12),
        ("第十二条第二款应当删除", 12),
        ("第１２条", 12),
        ("对第一百零三条的意见", 103),
        ("第 3 条", 3),
        ("没有提到任何条款", None),
        ("第九百条不存在", None),
        ("先说第九百条，再说第二条", 2),
    ],
)
def test_article_detector(text, article):
    assert liaison.detect_article(text, {2, 3, 12, 103}) == article


def sheet(rows, headers=("意见内容", "涉及条款", "意见类型", "提出人身份", "提出人数")) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.append(list(headers))
    for row in rows:
        worksheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, batch, data: bytes, name="意见.xlsx"):
    return client.post(
        f"/liaison/submissions/{batch.id}/import",
        data={"import-file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def opinions_in(batch) -> int:
    db.session.expire_all()
    return len(db.session.get(Submission, batch.id).comments)


def test_import_good_file_saves_every_row(app, two_points, open_draft):
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    rows = [
        ("第一条应当写明目的。", "第一条", "修改", "居民", 3),
        ("建议删除第3条。", "", "删除", "企业", 1),
        ("总体赞成。", "总体", "赞成", "", ""),
    ]
    response = upload(client, batch, sheet(rows))
    assert response.status_code == 302
    db.session.expire_all()
    comments = sorted(db.session.get(Submission, batch.id).comments, key=lambda c: c.id)
    assert [(c.article_number, c.raised_by) for c in comments[1:]] == [(1, 3), (3, 1), (None, 1)]


def test_import_with_errors_in_several_rows_saves_nothing(app, two_points, open_draft):
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    rows = [
        ("好的意见", "第一条", "修改", "居民", 1),
        ("", "第一条", "修改", "居民", 1),
        ("第二条有问题", "第九十九条", "修改", "居民", 1),
        ("意见", "", "随便", "居民", 1),
        ("意见", "", "修改", "外星人", "三点五"),
    ]
    response = upload(client, batch, sheet(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "任何内容都没有保存" in page
    for row in (3, 4, 5, 6):
        assert f"第 {row} 行" in page, row
    assert opinions_in(batch) == 1


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.xlsx", "文件里没有意见"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "photo.xlsx", "不是 Excel（.xlsx）或 CSV 表格"),
        (b"%PDF-1.4 minutes", "minutes.xlsx", "不是 Excel（.xlsx）或 CSV 表格"),
        ("标题\n第一条意见\n".encode(), "wrong.csv", "要有“意见内容”一列"),
    ],
)
def test_import_bad_files_give_clear_messages(app, two_points, open_draft, data, name, message):
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    response = upload(client, batch, data, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert opinions_in(batch) == 1


def test_import_wrong_headers(app, two_points, open_draft):
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    response = upload(client, batch, sheet([("x", "y")], headers=("内容", "备注")))
    assert "要有“意见内容”一列" in response.get_data(as_text=True)
    assert opinions_in(batch) == 1


def test_import_too_many_rows(app, two_points, open_draft, monkeypatch):
    from portal.liaison import spreadsheet

    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 5)
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    response = upload(client, batch, sheet([(f"意见{n}", "", "", "", 1) for n in range(6)]))
    assert "最多 5 条意见" in response.get_data(as_text=True)
    assert opinions_in(batch) == 1


def test_import_csv_in_gbk(app, two_points, open_draft):
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    text = "意见内容,涉及条款,意见类型,提出人身份,提出人数\n建议第二条写明期限,,修改,居民,2\n"
    assert upload(client, batch, text.encode("gb18030"), "意见.csv").status_code == 302
    assert opinions_in(batch) == 2


def test_template_download(app, two_points, open_draft):
    import openpyxl

    client = client_for(app, two_points["east_staff"])
    with client.get("/liaison/template.xlsx?draft=test-draft") as response:
        assert response.status_code == 200
        workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    assert headers[:5] == ["意见内容", "涉及条款", "意见类型", "提出人身份", "提出人数"]
    assert workbook.worksheets[0].data_validations.dataValidation


# --- the liaison window, repeats and the participant breakdown (issue 11) -------------------


def move_window(draft, opens: float, closes: float, published: bool = False) -> None:
    """Place the draft's consultation window relative to now, in days."""
    now = utcnow()
    draft.opens_at = now + timedelta(days=opens)
    draft.closes_at = now + timedelta(days=closes)
    draft.results_published_at = now if published else None
    db.session.commit()


def batch_count() -> int:
    return db.session.scalar(db.select(db.func.count(Submission.id)))


WINDOWS = {
    "before-opening": ((2, 20, False), "将于"),
    "during": ((-2, 20, False), None),
    "within-grace": ((-20, -1, False), None),
    "after-grace": ((-20, -3.01, False), "宽限期（3 天）"),
    "results-published": ((-20, -1, True), "结果已于"),
}


@pytest.mark.parametrize("case", WINDOWS)
def test_new_batch_page_follows_the_window(app, two_points, open_draft, case):
    window, message = WINDOWS[case]
    move_window(open_draft, *window)
    client = client_for(app, two_points["east_staff"])
    response = client.post("/liaison/submissions/new", data=META)
    if message is None:
        assert response.status_code == 302
        assert batch_count() == 1
        return
    page = response.get_data(as_text=True)
    assert message in page and "报送意见" in page
    assert batch_count() == 0


@pytest.mark.parametrize("case", WINDOWS)
def test_a_batch_is_built_and_sent_only_inside_the_window(app, two_points, open_draft, case):
    window, message = WINDOWS[case]
    batch = make_batch(two_points, open_draft)  # begun while the consultation was open
    move_window(open_draft, *window)
    client = client_for(app, two_points["east_staff"])
    url = f"/liaison/submissions/{batch.id}"
    opinion = {
        "op-body": "第三条意见",
        "op-article": "auto",
        "op-stance": "other",
        "op-identity": "",
    }
    added = client.post(f"{url}/opinions", data={**opinion, "op-raised_by": "1"})
    imported = upload(client, batch, sheet([("表格里的意见", "", "", "", 1)]))
    submitted = client.post(f"{url}/submit")
    db.session.expire_all()
    stored = db.session.get(Submission, batch.id)
    if message is None:
        assert added.status_code == imported.status_code == submitted.status_code == 302
        assert stored.status == SubmissionStatus.submitted and len(stored.comments) == 3
        return
    for response in (added, imported, submitted):
        assert response.status_code == 403
        assert message in response.get_data(as_text=True)
    assert stored.status == SubmissionStatus.draft and len(stored.comments) == 1
    # The page says why and offers no way to add or send; removing stays possible.
    page = client.get(url).get_data(as_text=True)
    assert message in page and "逐条添加" not in page and "报送这批意见" not in page
    comment = stored.comments[0]
    assert client.post(f"{url}/opinions/{comment.id}/delete").status_code == 302
    assert opinions_in(batch) == 0


def test_meta_edit_follows_the_window(app, two_points, open_draft):
    batch = make_batch(two_points, open_draft)
    move_window(open_draft, -20, -10)
    client = client_for(app, two_points["east_staff"])
    response = client.post(f"/liaison/submissions/{batch.id}/meta", data=META)
    assert response.status_code == 403 and "不能再报送意见" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Submission, batch.id).place == ""


def test_window_message_in_english(app, two_points, open_draft):
    move_window(open_draft, 2, 20)
    client = client_for(app, two_points["east_staff"])
    client.get("/language/en")
    page = client.post("/liaison/submissions/new", data=META).get_data(as_text=True)
    assert "batches can be sent from then on" in page


def repeat_batch(two_points, draft, bodies):
    batch = liaison.create_submission(
        two_points["east"],
        draft,
        {"method": "forum", "held_on": utcnow().date(), "participants": 3},
        two_points["east_staff"],
    )
    liaison.add_opinions(batch, [OpinionData(body=b) for b in bodies], two_points["east_staff"])
    db.session.commit()
    return batch


def test_repeats_are_shown_before_submitting_and_can_be_left_out(app, two_points, open_draft):
    earlier = make_batch(two_points, open_draft, submitted=True)  # "east 的意见：第二条应当修改。"
    batch = repeat_batch(two_points, open_draft, ["east的意见: 第2条应当修改", "一条新意见。"])
    client = client_for(app, two_points["east_staff"])
    url = f"/liaison/submissions/{batch.id}"
    page = client.get(url).get_data(as_text=True)
    assert "1 条意见本联系点此前已经报送过" in page
    assert earlier.receipt_code in page and f"汇总表 #{earlier.id}" in page
    assert "去掉这 1 条重复意见" in page and "仍然报送全部意见" in page
    # Sending without choosing is refused with the list; nothing is sent.
    refused = client.post(f"{url}/submit")
    assert refused.status_code == 409
    assert "请去掉重复的意见，或确认仍然报送" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Submission, batch.id).status == SubmissionStatus.draft
    left_out = client.post(f"{url}/repeats/leave-out", follow_redirects=True)
    assert "已去掉 1 条此前报送过的意见" in left_out.get_data(as_text=True)
    db.session.expire_all()
    assert [c.body for c in db.session.get(Submission, batch.id).comments] == ["一条新意见。"]
    assert client.post(f"{url}/submit").status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, batch.id).status == SubmissionStatus.submitted


def test_another_point_cannot_leave_out_or_see_repeats(app, two_points, open_draft, make_user):
    make_batch(two_points, open_draft, submitted=True)
    batch = repeat_batch(two_points, open_draft, ["east 的意见：第二条应当修改", "新的"])
    drafter = make_user(Role.drafter, email="d@example.org")
    for user in (two_points["west_staff"], drafter):
        client = client_for(app, user)
        assert client.get(f"/liaison/submissions/{batch.id}").status_code in (403, 404)
        response = client.post(f"/liaison/submissions/{batch.id}/repeats/leave-out")
        assert response.status_code in (403, 404)
    db.session.expire_all()
    assert len(db.session.get(Submission, batch.id).comments) == 2


def test_repeats_can_be_sent_anyway(app, two_points, open_draft):
    make_batch(two_points, open_draft, submitted=True)
    batch = repeat_batch(two_points, open_draft, ["east 的意见：第二条应当修改", "新的"])
    client = client_for(app, two_points["east_staff"])
    response = client.post(f"/liaison/submissions/{batch.id}/submit", data={"repeats": "include"})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Submission, batch.id)
    assert stored.status == SubmissionStatus.submitted and len(stored.comments) == 2


def test_the_first_batch_has_no_repeat_warning(app, two_points, open_draft):
    make_batch(two_points, open_draft, who="west", submitted=True)  # another point, same text
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    page = client.get(f"/liaison/submissions/{batch.id}").get_data(as_text=True)
    assert "此前已经报送过" not in page and "报送这批意见" in page


BREAKDOWN_14_OF_15 = {
    **META,
    "participants": "15",
    "participants_residents": "8",
    "participants_businesses": "3",
    "participants_experts": "1",
    "participants_deputies": "2",
    "participants_other": "0",
}


def test_new_batch_form_refuses_a_breakdown_that_does_not_add_up(app, two_points, open_draft):
    client = client_for(app, two_points["east_staff"])
    response = client.post("/liaison/submissions/new", data=BREAKDOWN_14_OF_15)
    assert "分项人数合计14人，与参与总人数15人不一致" in response.get_data(as_text=True)
    assert batch_count() == 0
    fixed = client.post(
        "/liaison/submissions/new", data={**BREAKDOWN_14_OF_15, "participants_other": "1"}
    )
    assert fixed.status_code == 302 and batch_count() == 1


def test_meta_form_refuses_a_breakdown_that_does_not_add_up(app, two_points, open_draft):
    batch = make_batch(two_points, open_draft)
    client = client_for(app, two_points["east_staff"])
    response = client.post(f"/liaison/submissions/{batch.id}/meta", data=BREAKDOWN_14_OF_15)
    assert response.status_code == 422
    assert "分项人数合计14人，与参与总人数15人不一致" in response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Submission, batch.id)
    assert stored.participants == 3 and stored.participants_residents == 0


def test_an_imported_batch_with_a_wrong_breakdown_is_not_sent(app, two_points, open_draft):
    # The spreadsheet carries opinions, not head counts: the breakdown saved with the batch
    # (here one saved before the rule) is checked again when the batch is sent.
    batch = make_batch(two_points, open_draft)
    batch.participants, batch.participants_residents = 15, 14
    db.session.commit()
    client = client_for(app, two_points["east_staff"])
    assert upload(client, batch, sheet([("表格里的意见", "", "", "", 1)])).status_code == 302
    response = client.post(f"/liaison/submissions/{batch.id}/submit", follow_redirects=True)
    assert "分项人数合计14人，与参与总人数15人不一致" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Submission, batch.id).status == SubmissionStatus.draft
