"""Admin pages: liaison points, their staff, and drafting-team accounts."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import bp
from portal.admin import services as admin
from portal.admin.forms import AccountForm, PointForm, StaffForm
from portal.auth.decorators import admin_required
from portal.auth.services import AccountError, create_user
from portal.extensions import db
from portal.models import LiaisonPoint, Role, User


@bp.route("/points")
@admin_required
def points():
    return render_template(
        "admin/points.html", points=admin.list_points(), staff=admin.staff_counts()
    )


@bp.route("/points/new", methods=["GET", "POST"])
@admin_required
def point_new():
    form = PointForm()
    if form.validate_on_submit():
        point = admin.save_point(None, form.to_data(), current_user)
        db.session.commit()
        flash(_("联系点已创建。"), "success")
        return redirect(url_for("admin.point", point_id=point.id))
    return render_template("admin/point_form.html", form=form, point=None)


@bp.route("/points/<int:point_id>", methods=["GET", "POST"])
@admin_required
def point(point_id: int):
    item = db.session.get(LiaisonPoint, point_id) or abort(404)
    form = PointForm(obj=item, point=item)
    staff_form = StaffForm(prefix="staff")
    if form.submit.data and form.validate_on_submit():
        admin.save_point(item, form.to_data(), current_user)
        db.session.commit()
        flash(_("联系点信息已保存。"), "success")
        return redirect(url_for("admin.point", point_id=item.id))
    if staff_form.submit.data and staff_form.validate_on_submit():
        email = (staff_form.email.data or "").strip() or None
        phone = (staff_form.phone.data or "").strip() or None
        try:
            admin.add_staff(
                item,
                email=email,
                phone=phone,
                name=staff_form.name.data,
                password=staff_form.password.data,
                actor=current_user,
            )
        except AccountError as error:
            db.session.rollback()
            staff_form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("工作人员账号已创建。"), "success")
            return redirect(url_for("admin.point", point_id=item.id))
    return render_template("admin/point_form.html", form=form, point=item, staff_form=staff_form)


@bp.route("/points/<int:point_id>/active", methods=["POST"])
@admin_required
def point_active(point_id: int):
    item = db.session.get(LiaisonPoint, point_id) or abort(404)
    active = request.form.get("active") == "1"
    admin.set_point_active(item, active, current_user)
    db.session.commit()
    flash(_("联系点已启用。") if active else _("联系点已停用，其工作人员账号也已停用。"), "success")
    return redirect(url_for("admin.point", point_id=item.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def user_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        abort(400)
    active = request.form.get("active") == "1"
    admin.set_user_active(user, active, current_user)
    db.session.commit()
    flash(_("账号已启用。") if active else _("账号已停用。"), "success")
    back = (
        url_for("admin.point", point_id=user.liaison_point_id)
        if user.liaison_point_id
        else (url_for("admin.accounts"))
    )
    return redirect(back)


@bp.route("/accounts", methods=["GET", "POST"])
@admin_required
def accounts():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                role=Role(form.role.data),
                email=form.email.data,
                password=form.password.data,
                display_name=form.name.data,
            )
        except AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            from portal.audit import record

            record(current_user, "user.created", user, {"role": user.role.value})
            db.session.commit()
            flash(_("账号已创建。"), "success")
            return redirect(url_for("admin.accounts"))
    return render_template("admin/accounts.html", users=admin.list_accounts(), form=form)
