"""Account forms shared by the agents page (a supervisor's agents) and the admins' users page."""

from __future__ import annotations

from sync.accounts import users
from sync.models import ROLES

from ...extensions import db
from ..forms import Fields, confirm_page, confirmed, done, form
from ..guard import current
from ..i18n import translate

MAX_PASSWORD = 200


def new_user_values(fields: Fields, *, role: str | None = None) -> dict:
    """What a new account needs (``sync.accounts.users.add_user``); ``role`` fixed, or read from the form."""
    return {
        "username": (fields.text("username", required=True, max_len=100) or "").lower(),
        "password": fields.text("password", required=True, max_len=MAX_PASSWORD) or "",
        "role": role or fields.choice("role", ROLES) or "",
        "branch_id": fields.identifier("branch"),
        "full_name": fields.text("full_name", max_len=200),
    }


def reset_password(user_id: str, back: str):
    """Set a new password for a user the caller manages (confirmed; the engine records it in the trail)."""
    principal = current()
    user = users.manageable_user(db.session, principal=principal, user_id=user_id)
    fields = form()
    password = fields.text("password", required=True, max_len=MAX_PASSWORD) or ""
    fields.check()
    if not confirmed():
        return confirm_page(translate("admin.confirm_password"), [(translate("login.username"), user.username)], back)
    users.update_user(db.session, principal=principal, user_id=user.id, changes={"password": password})
    return done("admin.done_password", back, username=user.username)
