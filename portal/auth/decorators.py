"""Role checks for views: anonymous visitors are sent to log in, wrong roles get 403."""

from functools import wraps

from flask import abort
from flask_login import current_user

from portal.extensions import login_manager
from portal.models import Role


def role_required(*roles: Role):
    """Allow the view only to logged-in users holding one of the roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.drafter, Role.admin)
admin_required = role_required(Role.admin)
