"""Account security: TOTP two-factor sign-in, re-authentication for risky changes, sign-out everywhere."""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from .audit import Actor, record_event
from .errors import Conflict, InvalidInput
from .models import User, utcnow
from .users import set_password

#: Codes from the previous and next 30-second step are accepted too: phone clocks drift.
_VALID_WINDOW = 1
_CODE = re.compile(r"\d{6}")


def new_totp_secret() -> str:
    """A fresh random base32 secret (160 bits) for an authenticator app."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, email: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def totp_code_step(secret: str | None, code: str | None, now: datetime | None = None) -> int | None:
    """The 30-second step whose code `code` (spaces allowed) is, within the window; else None."""
    digits = re.sub(r"\s", "", code or "")
    if not secret or not _CODE.fullmatch(digits):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or utcnow())
    for step in range(current - _VALID_WINDOW, current + _VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def totp_code_matches(secret: str | None, code: str | None) -> bool:
    """True when `code` (spaces allowed) is a current code of `secret` (no replay check)."""
    return totp_code_step(secret, code) is not None


def accept_totp_code(user: User, code: str | None) -> bool:
    """True, and remembered, when `code` is current for `user` and newer than the last accepted.

    RFC 6238 §5.2: a verifier must not accept the same code twice, so one overheard code
    cannot be replayed within its window.
    """
    step = totp_code_step(user.totp_secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def password_matches(user: User, password: str | None) -> bool:
    return bool(password) and check_password_hash(user.password_hash, password or "")


def check_reauthentication(user: User, password: str | None, code: str | None) -> None:
    """Refuse unless `password` is the user's and, when TOTP is on, `code` is current."""
    if not password_matches(user, password):
        raise InvalidInput("this is not your password", field="password")
    if user.totp_secret and not accept_totp_code(user, code):
        raise InvalidInput("this code is wrong, already used or expired: use the next one from your app",
                           field="code")


def enable_totp(session: Session, user: User, secret: str, code: str, *, actor: Actor) -> User:
    """Switch two-factor sign-in on once the user proves the app shows the right codes."""
    if user.totp_secret:
        raise Conflict("two-factor sign-in is already on")
    step = totp_code_step(secret, code)
    if step is None:
        raise InvalidInput("this code does not match: check the time on your phone and try the next one",
                           field="code")
    user.totp_secret, user.totp_last_step = secret, step
    record_event(session, actor, "user.totp_enable", user, before={"id": user.id, "totp": "off"},
                 after={"id": user.id, "totp": "on"})
    return user


def disable_totp(session: Session, user: User, password: str, code: str, *, actor: Actor) -> User:
    """Switch two-factor sign-in off; needs the password and a current code."""
    if not user.totp_secret:
        raise Conflict("two-factor sign-in is already off")
    check_reauthentication(user, password, code)
    user.totp_secret, user.totp_last_step = None, None
    record_event(session, actor, "user.totp_disable", user, before={"id": user.id, "totp": "on"},
                 after={"id": user.id, "totp": "off"})
    return user


def change_password(session: Session, user: User, current: str, new: str, *, actor: Actor) -> User:
    """Change one's own password after checking the current one; other sessions end."""
    if not password_matches(user, current):
        raise InvalidInput("this is not your current password", field="current_password")
    return set_password(session, user, new, actor=actor)


def sign_out_everywhere(session: Session, user: User, *, actor: Actor) -> User:
    """End every session of `user`, on every device (their cookies stop loading)."""
    user.session_version += 1
    record_event(session, actor, "user.sign_out_everywhere", user,
                 after={"id": user.id, "session_version": user.session_version})
    return user


def finish_totp_sign_in(session: Session, user_id: int, session_version: int, code: str) -> User | None:
    """The user who passed the password step, if `code` is current and nothing changed since; else None."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != session_version:
        return None
    if not accept_totp_code(user, code):
        return None
    user.last_login_at = utcnow()
    return user
