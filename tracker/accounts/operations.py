"""Accounts: create, authenticate and change users; two-factor codes, re-authentication, sign-out everywhere.

The last active owner can never be demoted or deactivated."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import Actor, record_event, snapshot
from ..db import lock
from ..errors import Conflict, InvalidInput, NotFound
from ..models import ROLES, User, UserSession, utcnow

#: An ordinary mailbox: letters, digits and ._%+- before the @, a dotted host name after it.
#: Quotes, angle brackets, "?" and "&" are refused: the contact address becomes a mailto:
#: link, where `"><svg…>@x` or `a@b.c?subject=…` would be markup or a forged message.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+", re.ASCII)


MIN_PASSWORD = 12


@cache
def _dummy_hash() -> str:
    """A hash check_password_hash can test in constant work, so a login for an unknown account
    takes as long as one for a known account (made on first use: scrypt is slow on purpose, and
    every `tracker` command imports this module)."""
    return generate_password_hash("not a real password", method="scrypt")


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
        check_password_hash(_dummy_hash(), password)
        return None
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def _lock_active_owners(session: Session) -> list[User]:
    """The active owners, locked until the transaction ends, always in the same order (by id).

    Two owners demoting each other at once: the second waits for the first, then finds one
    owner left and is refused. The fixed order means neither can hold a row the other needs.
    """
    return list(session.scalars(select(User).where(User.role == "owner", User.active.is_(True))
                                .order_by(User.id).with_for_update()))


def update_user(session: Session, user: User, *, actor: Actor, role: str | None = None,
                active: bool | None = None) -> User:
    """Change a user's role or active flag, keeping at least one active owner."""
    if role is not None and role not in ROLES:
        raise InvalidInput(f"the role is one of {', '.join(ROLES)}", field="role")
    demotes = (role is not None and role != "owner") or active is False
    owners = _lock_active_owners(session) if demotes and user.role == "owner" else []
    user = lock(session, user)
    before = snapshot(user)
    loses_owner = user.role == "owner" and user.active and demotes
    if loses_owner and len([owner for owner in owners if owner.id != user.id]) < 1:
        raise Conflict("this is the last owner: make someone else owner first")
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
        if not active:
            end_every_session(session, user)
    record_event(session, actor, "user.update", user, before=before)
    return user


def set_password(session: Session, user: User, password: str, *, actor: Actor) -> User:
    """Change a password and sign out the user's other sessions."""
    user.password_hash = hash_password(password)
    end_every_session(session, user)
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


def reauthenticate(session: Session, user: User, password: str | None, code: str | None) -> Reauthenticated:
    """The proof that `user` just gave the password (and, with TOTP, a code not used before)."""
    user = lock(session, user)  # one code, sent twice at once, is still accepted once
    check_reauthentication(user, password, code)
    return Reauthenticated(user_id=user.id)


def start_totp_enrolment(session: Session, user: User) -> str:
    """The secret to show for enrolment: kept on the server until confirmed or until sign-out."""
    if user.totp_secret:
        raise Conflict("two-factor sign-in is already on")
    if not user.totp_pending_secret:
        user.totp_pending_secret = new_totp_secret()
        session.flush()
    return user.totp_pending_secret


def enable_totp(session: Session, user: User, password: str, code: str, *, actor: Actor) -> User:
    """Switch two-factor sign-in on: the password again, and a code proving the app shows the right ones."""
    user = lock(session, user)
    if user.totp_secret:
        raise Conflict("two-factor sign-in is already on")
    secret = user.totp_pending_secret
    if not secret:
        raise Conflict("start again: the enrolment expired when you signed out")
    if not password_matches(user, password):
        raise InvalidInput("this is not your password", field="password")
    step = totp_code_step(secret, code)
    if step is None:
        raise InvalidInput("this code does not match: check the time on your phone and try the next one",
                           field="code")
    user.totp_secret, user.totp_last_step, user.totp_pending_secret = secret, step, None
    record_event(session, actor, "user.totp_enable", user, before={"id": user.id, "totp": "off"},
                 after={"id": user.id, "totp": "on"})
    return user


def disable_totp(session: Session, user: User, password: str, code: str, *, actor: Actor) -> User:
    """Switch two-factor sign-in off; needs the password and a current code."""
    user = lock(session, user)
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
    end_every_session(session, user)
    record_event(session, actor, "user.sign_out_everywhere", user,
                 after={"id": user.id, "session_version": user.session_version})
    return user


def finish_totp_sign_in(session: Session, user_id: int, session_version: int, code: str) -> User | None:
    """The user who passed the password step, if `code` is current and nothing changed since; else None."""
    found = session.get(User, user_id)
    # Locked: two requests with the same code at once must not both pass the replay check.
    user = lock(session, found) if found is not None else None
    if user is None or not user.active or user.session_version != session_version:
        return None
    if not accept_totp_code(user, code):
        return None
    user.last_login_at = utcnow()
    return user


# --- sessions of signed-in browsers -----------------------------------------------------------
# The signed cookie carries a random token; the database keeps only its hash, with an expiry.
# Signing out deletes the row, so even a copy of the cookie stops working at once; every
# process and host sees the same rows.


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, *, hours: int, now: datetime | None = None) -> str:
    """Start a signed-in session of `user` lasting `hours`; returns the token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=_token_id(token), user_id=user.id, created_at=now,
                            expires_at=now + timedelta(hours=hours)))
    session.flush()
    return token


def session_user(session: Session, user_id: int, version: int, token: str,
                 now: datetime | None = None) -> User | None:
    """The user a cookie names, if its session exists, has not expired and nothing ended it since."""
    row = session.get(UserSession, _token_id(token))
    if row is None or row.user_id != user_id or row.expires_at <= (now or utcnow()):
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def close_session(session: Session, token: str) -> None:
    """Sign this browser out: its session row goes, and any enrolment it had started is forgotten."""
    row = session.get(UserSession, _token_id(token))
    if row is None:
        return
    user = session.get(User, row.user_id)
    if user is not None:
        user.totp_pending_secret = None
    session.delete(row)
    session.flush()


def end_every_session(session: Session, user: User) -> None:
    """End every session of `user` on every device (a new password, deactivation, on request)."""
    user.session_version += 1
    user.totp_pending_secret = None
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))

