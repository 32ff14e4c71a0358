"""The operator commands print what they did and fail clearly on bad arguments."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Article, Draft, LiaisonPoint, Role, User


def test_seed_demo_loads_once(runner):
    first = runner.invoke(args=["portal", "seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Liaison points created: 27" in first.output
    assert "drafter@example.org" in first.output
    counts = (
        db.session.scalar(select(func.count(Draft.id))),
        db.session.scalar(select(func.count(Article.id))),
        db.session.scalar(select(func.count(LiaisonPoint.id))),
        db.session.scalar(select(func.count(User.id))),
    )
    second = runner.invoke(args=["portal", "seed-demo"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert counts == (
        db.session.scalar(select(func.count(Draft.id))),
        db.session.scalar(select(func.count(Article.id))),
        db.session.scalar(select(func.count(LiaisonPoint.id))),
        db.session.scalar(select(func.count(User.id))),
    )


def test_demo_data_is_realistic(runner):
    runner.invoke(args=["portal", "seed-demo"])
    drafts = db.session.scalars(select(Draft).order_by(Draft.slug)).all()
    assert len(drafts) == 3
    phases = sorted(d.phase() for d in drafts)
    assert phases == ["ended", "open", "upcoming"]
    for draft in drafts:
        assert len(draft.chapters) >= 6
        assert len(draft.articles) >= 40
        assert draft.title_en and draft.summary_en
    levels = [p.level.value for p in db.session.scalars(select(LiaisonPoint))]
    assert levels.count("provincial") == 1 and levels.count("municipal") == 26
    roles = {u.role for u in db.session.scalars(select(User))}
    assert roles == set(Role)


def test_create_user(runner, make_point):
    point = make_point(code="JZ-M99")
    result = runner.invoke(
        args=[
            "portal",
            "create-user",
            "--role",
            "liaison",
            "--email",
            "Staff@Example.org",
            "--password",
            "long-enough-pw",
            "--point",
            point.code,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created liaison account staff@example.org" in result.output
    user = db.session.scalar(select(User).where(User.email == "staff@example.org"))
    assert user.liaison_point_id == point.id
    assert user.check_password("long-enough-pw")


def test_create_user_refuses_bad_arguments(runner, make_point):
    make_point(code="JZ-M01")
    cases = [
        (
            ["--role", "liaison", "--email", "a@example.org", "--password", "long-enough-pw"],
            "必须指定所属联系点",
        ),
        (["--role", "drafter", "--email", "b@example.org", "--password", "short"], "密码至少需要"),
        (
            [
                "--role",
                "citizen",
                "--email",
                "c@example.org",
                "--password",
                "long-enough-pw",
                "--point",
                "JZ-M01",
            ],
            "只有联系点工作人员",
        ),
        (
            [
                "--role",
                "liaison",
                "--email",
                "d@example.org",
                "--password",
                "long-enough-pw",
                "--point",
                "NOPE",
            ],
            "没有编号为 NOPE",
        ),
        (["--role", "citizen", "--password", "long-enough-pw"], "请填写电子邮箱或手机号码"),
        (
            ["--role", "emperor", "--email", "e@example.org", "--password", "long-enough-pw"],
            "Invalid value",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(args=["portal", "create-user", *args])
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_create_user_refuses_duplicates(runner):
    args = [
        "portal",
        "create-user",
        "--role",
        "citizen",
        "--email",
        "x@example.org",
        "--password",
        "long-enough-pw",
    ]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0
    assert "已存在" in again.output


def test_set_active_and_list_users(runner, make_user, client):
    user = make_user(Role.citizen, email="who@example.org")
    result = runner.invoke(args=["portal", "set-active", "who@example.org", "--inactive"])
    assert result.exit_code == 0
    assert "inactive" in runner.invoke(args=["portal", "list-users"]).output
    response = client.post(
        "/login", data={"login": user.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 200  # refused: the form is shown again
    assert runner.invoke(args=["portal", "set-active", "nobody@example.org"]).exit_code != 0
