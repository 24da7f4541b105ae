"""Accounts in the domain: creating, authenticating, changing roles, and the last owner who always stays."""

from __future__ import annotations

import pytest
from factories import CLI, PASSWORD

from tracker.accounts.operations import (
    authenticate,
    change_password,
    create_user,
    get_user,
    sign_out_everywhere,
    update_user,
)
from tracker.errors import Conflict, InvalidInput, NotFound
from tracker.models import AuditEvent


def test_create_and_authenticate(session):
    user = create_user(session, " Ada@Example.org ", PASSWORD, role="admin", actor=CLI)
    assert user.email == "ada@example.org"
    assert authenticate(session, "ADA@example.org", PASSWORD) is user
    assert authenticate(session, "ada@example.org", PASSWORD + "x") is None
    assert authenticate(session, "nobody@example.org", PASSWORD) is None
    assert [e.action for e in session.query(AuditEvent)] == ["user.create"]
    assert "password_hash" not in session.query(AuditEvent).one().after


@pytest.mark.parametrize("email, password, role, field", [
    ("not-an-address", PASSWORD, "admin", "email"),
    ("a@example.org", "short", "admin", "password"),
    ("a@example.org", PASSWORD, "root", "role"),
])
def test_bad_accounts_are_refused_next_to_their_field(session, email, password, role, field):
    with pytest.raises(InvalidInput) as refused:
        create_user(session, email, password, role=role, actor=CLI)
    assert refused.value.field == field


def test_an_e_mail_has_one_account(session):
    create_user(session, "a@example.org", PASSWORD, actor=CLI)
    with pytest.raises(InvalidInput, match="already has an account"):
        create_user(session, "A@example.org", PASSWORD, actor=CLI)


def test_the_last_active_owner_cannot_be_demoted_or_deactivated(session):
    owner = create_user(session, "owner@example.org", PASSWORD, role="owner", actor=CLI)
    with pytest.raises(Conflict, match="last owner"):
        update_user(session, owner, role="admin", actor=CLI)
    with pytest.raises(Conflict, match="last owner"):
        update_user(session, owner, active=False, actor=CLI)
    second = create_user(session, "second@example.org", PASSWORD, role="owner", actor=CLI)
    update_user(session, owner, role="admin", actor=CLI)
    assert owner.role == "admin" and second.role == "owner"


def test_deactivating_and_password_changes_end_every_session(session):
    user = create_user(session, "a@example.org", PASSWORD, actor=CLI)
    version = user.session_version
    change_password(session, user, PASSWORD, PASSWORD + " new", actor=CLI)
    assert user.session_version == version + 1
    with pytest.raises(InvalidInput):
        change_password(session, user, "wrong", PASSWORD, actor=CLI)
    sign_out_everywhere(session, user, actor=CLI)
    update_user(session, user, active=False, actor=CLI)
    assert user.session_version == version + 3
    assert authenticate(session, "a@example.org", PASSWORD + " new") is None  # deactivated


def test_get_user_names_a_missing_account(session):
    with pytest.raises(NotFound):
        get_user(session, 12345)
