"""Who may do what in /admin: one role decorator, checked `next=` targets, password-check rate limits."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, current_app, request, session
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..models import ROLES, role_allows
from .context import WRITE_METHODS, settings
from .extensions import limiter, login_manager

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on every admin view by `requires` or `public`; enforce_declared_roles checks it.
ACCESS_ATTRIBUTE = "admin_access"
#: Session key of a user who gave the right password but still owes a TOTP code.
PENDING_TOTP = "admin_pending_totp"


def requires(role: str, *, self_service: bool = False) -> Callable[[F], F]:
    """Let through signed-in users with at least `role`; any write needs at least "admin"."""
    # `self_service` marks views that only change the signed-in user's own session or sign-in
    # settings (sign out, two-factor, password): a viewer must be able to use those.
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            needed = role
            if request.method in WRITE_METHODS and not self_service and not role_allows(role, "admin"):
                needed = "admin"
            if not current_user.can(needed):
                abort(403, "Your role does not allow this.")
            return view(*args, **kwargs)

        setattr(guarded, ACCESS_ATTRIBUTE, {"role": role, "self_service": self_service})
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a view that anonymous people must reach (the sign-in steps)."""
    setattr(view, ACCESS_ATTRIBUTE, {"role": None, "self_service": False})
    return view


def enforce_declared_roles() -> None:
    """Refuse an admin endpoint that declares no access rule: forgetting `requires` fails closed."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, ACCESS_ATTRIBUTE, None) is None:
        abort(403)


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no scheme, host, `//` or backslash)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "\" as "/", so "/\evil.example" would leave the site.
    if any(char in target for char in "\\\r\n\t") or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _login_rate() -> str:
    return settings().security.login_rate_limit


def _account_key() -> str:
    """Rate-limit key of the account whose password (or code) is being checked."""
    if current_user.is_authenticated:
        return f"account:{current_user.email}"
    pending = session.get(PENDING_TOTP)
    if pending:
        return f"account:{pending.get('email', '')}"
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _no_secret_sent() -> bool:
    # Only attempts that send a password or code count: editing a label is not a guess.
    return not any(request.form.get(name) for name in ("password", "current_password", "code"))


def checks_password(view: F) -> F:
    """Rate-limit a view that checks a password or TOTP code, per client address and per account."""
    by_address = limiter.shared_limit(_login_rate, scope="password-check-address", key_func=get_remote_address,
                                      methods=["POST"], exempt_when=_no_secret_sent)
    by_account = limiter.shared_limit(_login_rate, scope="password-check-account", key_func=_account_key,
                                      methods=["POST"], exempt_when=_no_secret_sent)
    return cast(F, by_address(by_account(view)))


#: How the back office's forms are sent by a browser; anything else is refused before any view.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: The only file field of the back office: the CSV upload.
FILE_FIELDS = {"admin.donations_import_preview": frozenset({"file"})}


def form_bodies_only() -> None:
    """Refuse (400) an admin write whose body is not a browser form, or carries unexpected files.

    Flask-WTF also reads JSON bodies; a sign-in sent as JSON was checked by the view but not
    counted by the limiter (which reads the form), so 2,000 wrong codes went through without
    a 429. And a password sent as a file part reached the view as a file object (a 500). Here
    every body the views see is text fields of a form, counted the same way it is checked.
    """
    if request.method not in WRITE_METHODS:
        return
    empty = not request.mimetype and not request.content_length  # a bare button with no fields
    if not empty and request.mimetype not in FORM_TYPES:
        abort(400, "Send this form from its page: the body must be an HTML form.")
    allowed = FILE_FIELDS.get(request.endpoint or "", frozenset())
    if any(name not in allowed for name in request.files):
        abort(400, "This form takes no file here.")

