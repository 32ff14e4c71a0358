"""Login, logout, registration and the account's API tokens."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import bp, tokens
from portal.auth.forms import LoginForm, RegisterForm, TokenForm
from portal.auth.services import AccountError, authenticate, create_user
from portal.comments.browser import session_rate_key
from portal.extensions import db, deducted, limiter, spare_rate_limits
from portal.models import Role
from portal.urls import safe_next_url


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.login.data, form.password.data)
        if user is None:
            flash(_("账号或密码不正确。"), "danger")
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            flash(_("已登录。"), "success")
            return redirect(safe_next_url(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["REGISTER_RATE_LIMIT"], methods=["POST"], deduct_when=deducted
)
@limiter.limit(
    lambda: current_app.config["REGISTER_SESSION_RATE_LIMIT"],
    key_func=session_rate_key,
    methods=["POST"],
    deduct_when=deducted,
)
def register():
    """Citizens may register to see all their comments in one place; it is never required."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        login_text = form.login.data.strip()
        is_email = "@" in login_text
        try:
            user = create_user(
                role=Role.citizen,
                email=login_text if is_email else None,
                phone=None if is_email else login_text,
                password=form.password.data,
                display_name=(form.display_name.data or "").strip(),
            )
        except AccountError as error:
            db.session.rollback()
            form.login.errors.append(str(error))
        else:
            db.session.commit()
            login_user(user)
            flash(_("注册成功，已登录。"), "success")
            return redirect(safe_next_url(request.args.get("next")) or url_for("comments.mine"))
    elif request.method == "POST":
        spare_rate_limits()  # the form says what to correct; correcting is not another attempt
    return render_template("auth/register.html", form=form)


NEW_TOKEN_KEY = "new_api_token"  # noqa: S105 (a session key)


def token_error(error: tokens.TokenError) -> str:
    messages = {
        "name_required": _("请填写令牌的用途。"),
        "account_inactive": _("账号已停用，不能生成令牌。"),
        "too_many": _(
            "有效令牌最多 %(max)d 个，请先撤销不再使用的令牌。", max=tokens.MAX_ACTIVE_TOKENS
        ),
    }
    return messages.get(error.code, _("操作未成功，请重试。"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    """Personal API tokens: a new token is shown on the next page only, and never again.

    Post/redirect/get, so that reloading the page cannot create a second token; the secret
    waits in the (signed, HttpOnly) session for exactly one page view.
    """
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _token, secret = tokens.create_token(current_user, form.name.data)
        except tokens.TokenError as error:
            db.session.rollback()
            form.name.errors.append(token_error(error))
        else:
            db.session.commit()
            session[NEW_TOKEN_KEY] = secret
            return redirect(url_for("auth.api_tokens"))
    secret = session.pop(NEW_TOKEN_KEY, None) if request.method == "GET" else None
    response = render_template(
        "auth/tokens.html", form=form, tokens=tokens.tokens_of(current_user), secret=secret
    )
    # The page that shows a token must not be cached anywhere.
    return response, 200 if form.errors == {} else 422, {"Cache-Control": "no-store"}


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    token = tokens.get_own_token(current_user, token_id) or abort(404)
    tokens.revoke_token(token, current_user)
    db.session.commit()
    flash(_("令牌“%(name)s”已撤销，使用它的系统将无法再访问。", name=token.name), "success")
    return redirect(url_for("auth.api_tokens"))
