"""Login and logout."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.auth import bp
from portal.auth.forms import LoginForm, RegisterForm
from portal.auth.services import AccountError, authenticate, create_user
from portal.extensions import db, limiter
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
@limiter.limit("5 per hour", methods=["POST"])
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
    return render_template("auth/register.html", form=form)
