"""Admin accounts: create, authenticate, change roles; the last owner cannot be removed."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .audit import Actor, record_event, snapshot
from .errors import Conflict, InvalidInput
from .models import ROLES, User, utcnow

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
