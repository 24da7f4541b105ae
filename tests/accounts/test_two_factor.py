"""Two-factor codes: current ones accepted once, never replayed; stale ones refused."""

from datetime import timedelta

import pyotp
from factories import PASSWORD_HASH

from tracker.accounts.operations import accept_totp_code, new_totp_secret, totp_code_step
from tracker.models import User, utcnow


def test_a_code_is_accepted_once_and_never_again():
    secret = new_totp_secret()
    user = User(email="a@example.org", password_hash=PASSWORD_HASH, role="admin", totp_secret=secret)
    code = pyotp.TOTP(secret).now()
    assert accept_totp_code(user, code)
    assert not accept_totp_code(user, code), "a replayed code must be refused"
    assert user.totp_last_step == totp_code_step(secret, code)


def test_codes_outside_the_window_or_malformed_are_refused():
    secret = new_totp_secret()
    totp = pyotp.TOTP(secret)
    stale = totp.at(utcnow() - timedelta(minutes=5))
    assert totp_code_step(secret, stale) is None
    assert totp_code_step(secret, "12345") is None
    assert totp_code_step(secret, "abcdef") is None
    assert totp_code_step(None, totp.now()) is None
    spaced = totp.now()
    assert totp_code_step(secret, spaced[:3] + " " + spaced[3:]) is not None
