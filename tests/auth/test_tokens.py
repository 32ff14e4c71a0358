"""Personal API tokens: the settings page, the command line, hashing and revocation."""

import re

from portal.auth import tokens
from portal.extensions import db
from portal.models import ApiToken, Role


def test_settings_page_shows_a_new_token_once_and_stores_only_its_hash(client, login, make_user):
    user = make_user(Role.liaison)
    login(user)
    assert client.get("/account/tokens").status_code == 200
    response = client.post("/account/tokens", data={"name": "联系点系统"})
    assert response.status_code == 302  # reloading the next page cannot make a second token
    response = client.get("/account/tokens")
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = re.search(r'value="(lfp_[^"]+)"', page).group(1)
    (row,) = db.session.scalars(db.select(ApiToken)).all()
    assert row.token_hash == tokens.hash_token(secret) and secret not in row.token_hash
    assert row.prefix == secret[:12] and row.name == "联系点系统"
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again and row.prefix in again
    # The token works until it is revoked.
    assert (
        client.get("/api/v1/assignments", headers={"Authorization": f"Bearer {secret}"}).status_code
        != 401
    )
    client.post(f"/account/tokens/{row.id}/revoke")
    refused = client.get("/api/v1/assignments", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401


def test_a_name_is_required_and_another_persons_token_cannot_be_revoked(client, login, make_user):
    owner = make_user(Role.drafter)
    token, _secret = tokens.create_token(owner, "数据分析")
    db.session.commit()
    login(make_user(Role.drafter))
    empty = client.post("/account/tokens", data={"name": ""})
    assert empty.status_code == 422
    assert db.session.scalar(db.select(db.func.count(ApiToken.id))) == 1
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None


def test_tokens_page_needs_login(client):
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_at_most_ten_active_tokens(app, make_user):
    user = make_user(Role.liaison)
    for n in range(tokens.MAX_ACTIVE_TOKENS):
        tokens.create_token(user, f"t{n}")
    try:
        tokens.create_token(user, "one too many")
    except tokens.TokenError as error:
        assert error.code == "too_many"
    else:
        raise AssertionError("an eleventh token was created")


def test_inactive_accounts_tokens_stop_working(app, make_user):
    user = make_user(Role.liaison)
    _row, secret = tokens.create_token(user, "x")
    db.session.commit()
    assert tokens.authenticate(secret) == user
    user.active = False
    db.session.commit()
    assert tokens.authenticate(secret) is None
    assert tokens.authenticate("lfp_guess") is None
    assert tokens.authenticate("not-even-the-prefix") is None


def test_cli_creates_and_revokes_a_token(runner, make_user):
    user = make_user(Role.liaison, email="cli@example.org")
    result = runner.invoke(args=["portal", "create-token", "cli@example.org", "--name", "cron"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"^(lfp_\S+)$", result.output, re.MULTILINE).group(1)
    assert tokens.authenticate(secret).id == user.id
    prefix = secret[:12]
    revoked = runner.invoke(args=["portal", "revoke-token", prefix])
    assert revoked.exit_code == 0, revoked.output
    db.session.expire_all()
    assert tokens.authenticate(secret) is None
    unknown = runner.invoke(args=["portal", "create-token", "nobody@example.org"])
    assert unknown.exit_code != 0 and "No account" in unknown.output
