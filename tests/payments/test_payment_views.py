"""Payment methods: checksum errors by the field, re-authentication for new addresses, audit, order."""

from __future__ import annotations

import time

import pyotp
import pytest
from admin_helpers import BTC_NEW, BTC_OLD, BTC_TYPO, field_errors

from tracker.accounts.operations import SERVER_SHELL
from tracker.audit import Actor
from tracker.models import PaymentMethod
from tracker.payments.operations import PaymentMethodInput, list_payment_methods, save_payment_method

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def btc(session):
    method = save_payment_method(session, PaymentMethodInput("address", "BTC", BTC_OLD, "Bitcoin"), actor=Actor.cli(),
                                 proof=SERVER_SHELL)
    session.commit()
    return method


def method_data(**changes):
    return {"kind": "address", "coin": "BTC", "network": "mainnet", "target": BTC_OLD, "label": "Bitcoin",
            "active": "y"} | changes


def stored(app_session):
    app_session.rollback()
    app_session.expire_all()
    return list_payment_methods(app_session, active_only=False)


def test_a_mistyped_address_is_refused_with_the_reason_by_the_field(admin, count):
    response = admin.post("/admin/payment-methods/new", data=method_data(target=BTC_TYPO))
    assert response.status_code == 422
    assert "checksum does not match" in field_errors(response.data, "target")
    assert count(PaymentMethod) == 0


def test_adding_an_address_asks_for_the_password_first(admin, app_session, events):
    step = admin.post("/admin/payment-methods/new", data=method_data())
    assert step.status_code == 200
    assert b"Confirm what readers will see" in step.data and BTC_OLD.encode() in step.data
    assert b'src="data:image/svg+xml;base64,' in step.data
    assert stored(app_session) == []
    wrong = admin.post("/admin/payment-methods/new", data=method_data(confirmed="1", password="guess"))
    assert wrong.status_code == 422
    assert "this is not your password" in field_errors(wrong.data, "password")
    assert stored(app_session) == []
    done = admin.post("/admin/payment-methods/new", data=method_data(confirmed="1", password=PASSWORD))
    assert done.status_code == 302
    [method] = stored(app_session)
    assert method.target == BTC_OLD
    assert len(events("payment_method.create")) == 1


def test_changing_an_address_shows_old_and_new_and_is_audited(admin, btc, app_session, events):
    page = admin.get(f"/admin/payment-methods/{btc.id}")
    assert BTC_OLD.encode() in page.data
    step = admin.post(f"/admin/payment-methods/{btc.id}", data=method_data(target=BTC_NEW))
    html = step.data.decode()
    assert step.status_code == 200
    assert html.index(BTC_OLD) < html.index(BTC_NEW)  # old beside new, in reading order
    assert stored(app_session)[0].target == BTC_OLD
    # Skipping the confirm step by posting `confirmed` without the password does not work either.
    skipped = admin.post(f"/admin/payment-methods/{btc.id}", data=method_data(target=BTC_NEW, confirmed="1"))
    assert skipped.status_code == 422
    assert stored(app_session)[0].target == BTC_OLD
    done = admin.post(f"/admin/payment-methods/{btc.id}",
                      data=method_data(target=BTC_NEW, confirmed="1", password=PASSWORD))
    assert done.status_code == 302
    assert stored(app_session)[0].target == BTC_NEW
    [event] = events("payment_method.address_change")
    assert (event.before["target"], event.after["target"]) == (BTC_OLD, BTC_NEW)
    assert event.actor == "admin@example.org" and event.ip_address == "127.0.0.1"
    log = admin.get("/admin/audit?action=payment_method").data.decode()
    assert BTC_OLD in log and BTC_NEW in log


def test_a_label_change_readers_would_see_needs_the_password(admin, btc, app_session, events):
    step = admin.post(f"/admin/payment-methods/{btc.id}", data=method_data(label="Bitcoin (new address!)"))
    assert step.status_code == 200 and b"Confirm what readers will see" in step.data
    assert stored(app_session)[0].label == "Bitcoin"
    done = admin.post(f"/admin/payment-methods/{btc.id}",
                      data=method_data(label="Donate BTC", confirmed="1", password=PASSWORD))
    assert done.status_code == 302
    assert stored(app_session)[0].label == "Donate BTC"
    [event] = events("payment_method.address_change")
    assert (event.before["label"], event.after["label"]) == ("Bitcoin", "Donate BTC")


def test_a_hidden_method_can_be_relabelled_without_the_password(admin, btc, session, app_session):
    hidden = save_payment_method(session, PaymentMethodInput("address", "BTC", BTC_NEW, "Old", active=False),
                                 actor=Actor.cli())
    session.commit()
    response = admin.post(f"/admin/payment-methods/{hidden.id}", data=method_data(target=BTC_NEW, label="Older",
                                                                                  active=""))
    assert response.status_code == 302
    assert [m.label for m in stored(app_session)] == ["Bitcoin", "Older"]


def test_labels_refuse_direction_overrides_and_control_characters(admin, count):
    for label in ("Bitcoin \u202egnp.exe", "Bit\u200bcoin", "tab\there"):
        response = admin.post("/admin/payment-methods/new", data=method_data(label=label, confirmed="1",
                                                                             password=PASSWORD))
        assert response.status_code == 422, label
        assert "control or direction-changing" in field_errors(response.data, "label")
    assert count(PaymentMethod) == 0


def test_with_two_factor_a_current_code_is_needed(client, make_user, btc, app_session):
    secret = pyotp.random_base32()
    make_user(totp_secret=secret)
    client.post("/admin/login", data={"email": "admin@example.org", "password": PASSWORD})
    assert client.post("/admin/login/code", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    # The sign-in code cannot be used again; the change needs the next one (RFC 6238 §5.2).
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    step = client.post(f"/admin/payment-methods/{btc.id}", data=method_data(target=BTC_NEW))
    assert b'name="code"' in step.data
    no_code = client.post(f"/admin/payment-methods/{btc.id}",
                          data=method_data(target=BTC_NEW, confirmed="1", password=PASSWORD, code="000000"))
    assert no_code.status_code == 422
    assert "wrong, already used or expired" in field_errors(no_code.data, "code")
    replayed = client.post(f"/admin/payment-methods/{btc.id}", data=method_data(
        target=BTC_NEW, confirmed="1", password=PASSWORD, code=pyotp.TOTP(secret).now()))
    assert replayed.status_code == 422
    assert stored(app_session)[0].target == BTC_OLD
    done = client.post(f"/admin/payment-methods/{btc.id}", data=method_data(
        target=BTC_NEW, confirmed="1", password=PASSWORD, code=next_code))
    assert done.status_code == 302
    assert stored(app_session)[0].target == BTC_NEW


def test_reorder_and_show_or_hide_need_the_password_and_are_audited(admin, btc, session, app_session, events):
    mail = save_payment_method(session, PaymentMethodInput("email", "email", "give@example.org", "Write to us"),
                               actor=Actor.cli(), proof=SERVER_SHELL)
    session.commit()
    listing = admin.get("/admin/payment-methods").data.decode()
    assert listing.index(BTC_OLD) < listing.index("give@example.org")
    # Without the password the button only shows what would change.
    step = admin.post(f"/admin/payment-methods/{mail.id}/move", data={"direction": "-1"})
    assert step.status_code == 200 and b'name="password"' in step.data
    assert [m.id for m in stored(app_session)] == [btc.id, mail.id]
    wrong = admin.post(f"/admin/payment-methods/{mail.id}/move", data={"direction": "-1", "password": "guess"})
    assert wrong.status_code == 422 and [m.id for m in stored(app_session)] == [btc.id, mail.id]
    moved = admin.post(f"/admin/payment-methods/{mail.id}/move", data={"direction": "-1", "password": PASSWORD})
    assert moved.status_code == 302
    assert [m.id for m in stored(app_session)] == [mail.id, btc.id]
    [reorder] = events("payment_method.address_change")
    assert (reorder.before["shown_order"], reorder.after["shown_order"]) == ([btc.id, mail.id], [mail.id, btc.id])
    assert admin.post(f"/admin/payment-methods/{btc.id}/active").status_code == 200
    assert all(m.active for m in stored(app_session))
    assert admin.post(f"/admin/payment-methods/{btc.id}/active", data={"password": PASSWORD}).status_code == 302
    assert [m.active for m in stored(app_session)] == [True, False]
    # Showing an old address again is exactly as guarded as adding one.
    again = admin.post(f"/admin/payment-methods/{btc.id}/active", data={"password": "guess"})
    assert again.status_code == 422 and [m.active for m in stored(app_session)] == [True, False]
    assert admin.post(f"/admin/payment-methods/{btc.id}/active", data={"password": PASSWORD}).status_code == 302
    assert all(m.active for m in stored(app_session))
    shown = events("payment_method.address_change")[-1]
    assert (shown.before["active"], shown.after["active"]) == (False, True)
