"""Accounts: create, authenticate and change users; two-factor codes, re-authentication, sign-out everywhere.

The last active owner can never be demoted or deactivated."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import Actor, record_event, snapshot
from ..errors import Conflict, InvalidInput, NotFound
from ..models import ROLES, User, utcnow

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


MIN_PASSWORD = 12


# A hash that check_password_hash can test against in constant work, so a login for an
# unknown account takes as long as one for a known account.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 254:
        raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    return email


def hash_password(password: str) -> str:
    """scrypt (memory-hard), through werkzeug."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD} characters", field="password")
    return generate_password_hash(password, method="scrypt")


def create_user(session: Session, email: str, password: str, *, role: str = "admin",
                actor: Actor) -> User:
    """Add an account; the e-mail is the login and must be new."""
    email = normalize_email(email)
    if role not in ROLES:
        raise InvalidInput(f"the role is one of {', '.join(ROLES)}", field="role")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput(f"{email} already has an account", field="email")
    user = User(email=email, password_hash=hash_password(password), role=role, active=True)
    session.add(user)
    record_event(session, actor, "user.create", user)
    return user


def get_user(session: Session, user_id: int) -> User:
    """The account with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("there is no such user")
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (same work either way)."""
    try:
        email = normalize_email(email)
    except InvalidInput:
        check_password_hash(_DUMMY_HASH, password)
        return None
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def _active_owners(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(
        User.role == "owner", User.active.is_(True))) or 0


def update_user(session: Session, user: User, *, actor: Actor, role: str | None = None,
                active: bool | None = None) -> User:
    """Change a user's role or active flag, keeping at least one active owner."""
    before = snapshot(user)
    if role is not None and role not in ROLES:
        raise InvalidInput(f"the role is one of {', '.join(ROLES)}", field="role")
    loses_owner = user.role == "owner" and user.active and (
        (role is not None and role != "owner") or active is False)
    if loses_owner and _active_owners(session) <= 1:
        raise Conflict("this is the last owner: make someone else owner first")
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
        if not active:
            user.session_version += 1
    record_event(session, actor, "user.update", user, before=before)
    return user


def set_password(session: Session, user: User, password: str, *, actor: Actor) -> User:
    """Change a password and sign out the user's other sessions."""
    user.password_hash = hash_password(password)
    user.session_version += 1
    record_event(session, actor, "user.password", user, after={"id": user.id, "password": "changed"})
    return user


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


@dataclass(frozen=True)
class Reauthenticated:
    """Proof that whoever acts has just given their password again (and a fresh code, with TOTP).

    Made only by `reauthenticate` (or, as SERVER_SHELL, for commands run on the server, whose
    operator is beyond any web session). Risky domain operations take it as an argument, so
    the rule holds wherever they are called from, not only in the view that asks.
    """

    user_id: int | None


#: The proof of a command typed on the server: someone with a shell there needs no password.
SERVER_SHELL = Reauthenticated(user_id=None)


def check_reauthentication(user: User, password: str | None, code: str | None) -> None:
    """Refuse unless `password` is the user's and, when TOTP is on, `code` is current."""
    if not password_matches(user, password):
        raise InvalidInput("this is not your password", field="password")
    if user.totp_secret and not accept_totp_code(user, code):
        raise InvalidInput("this code is wrong, already used or expired: use the next one from your app",
                           field="code")


def reauthenticate(user: User, password: str | None, code: str | None) -> Reauthenticated:
    """The proof that `user` just gave the password (and, with TOTP, a code not used before)."""
    check_reauthentication(user, password, code)
    return Reauthenticated(user_id=user.id)


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

