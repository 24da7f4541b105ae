"""Payment methods: checksum-validated addresses, audited changes, labels that fit a QR code."""

import pytest
from factories import CLI
from sqlalchemy import select

from tracker.accounts.operations import SERVER_SHELL
from tracker.coins import payment_uri
from tracker.errors import InvalidInput
from tracker.models import AuditEvent
from tracker.payments.operations import (
    MAX_LABEL,
    PaymentMethodInput,
    list_payment_methods,
    move_payment_method,
    save_payment_method,
)
from tracker.qr import qr_png

BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
BTC_2 = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"


def test_an_address_change_is_validated_and_audited_with_before_and_after(session):
    method = save_payment_method(session, PaymentMethodInput("address", "btc", BTC.upper(), "Bitcoin"), actor=CLI, proof=SERVER_SHELL)
    assert (method.coin, method.target) == ("BTC", BTC)
    with pytest.raises(InvalidInput) as info:
        save_payment_method(session, PaymentMethodInput("address", "BTC", BTC[:-1] + "5", "Bitcoin"),
                            actor=CLI, method=method, proof=SERVER_SHELL)
    assert info.value.field == "target" and "checksum" in info.value.message
    save_payment_method(session, PaymentMethodInput("address", "BTC", BTC_2, "Bitcoin"), actor=CLI, method=method, proof=SERVER_SHELL)
    session.commit()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "payment_method.address_change")).one()
    assert (event.before["target"], event.after["target"]) == (BTC, BTC_2)


@pytest.mark.parametrize("data, field", [
    (PaymentMethodInput("address", "XYZ", BTC), "coin"),
    (PaymentMethodInput("link", "bank", "javascript:alert(1)"), "target"),
    (PaymentMethodInput("link", "bank", "http://plain.example"), "target"),
    (PaymentMethodInput("email", "email", "not-an-address"), "target"),
    (PaymentMethodInput("wire", "x", "y"), "kind"),
    (PaymentMethodInput("address", "BTC", BTC, "x" * (MAX_LABEL + 1)), "label"),
])
def test_bad_methods_are_refused_with_the_field_named(session, data, field):
    with pytest.raises(InvalidInput) as info:
        save_payment_method(session, data, actor=CLI, proof=SERVER_SHELL)
    assert info.value.field == field


def test_the_longest_label_still_fits_a_qr_code(session):
    label = "\U0001F600" * MAX_LABEL  # 4 UTF-8 bytes, 12 characters once percent-encoded
    uri = payment_uri("BTC", BTC, label=label)
    assert qr_png(uri)[:4] == b"\x89PNG"


def test_reordering(session):
    first = save_payment_method(session, PaymentMethodInput("address", "BTC", BTC), actor=CLI, proof=SERVER_SHELL)
    second = save_payment_method(session, PaymentMethodInput("email", "email", "a@example.org"), actor=CLI, proof=SERVER_SHELL)
    move_payment_method(session, second, -1, actor=CLI, proof=SERVER_SHELL)
    assert (second.position, first.position) == (1, 2)


def test_every_change_readers_would_see_needs_a_fresh_reauthentication(session, make_user):
    """Target, label, showing again and order: each is refused without proof, and audited as an address change."""
    from tracker.accounts.operations import Reauthenticated
    from tracker.audit import Actor
    from tracker.payments.operations import ReauthenticationRequired

    user = make_user()
    admin = Actor("admin@example.org", user_id=user.id)
    method = save_payment_method(session, PaymentMethodInput("address", "BTC", BTC, "Bitcoin", active=False),
                                 actor=admin)  # hidden: readers see nothing yet
    other = save_payment_method(session, PaymentMethodInput("address", "BTC", BTC_2, "Bitcoin"), actor=CLI,
                                proof=SERVER_SHELL)
    for change in ({"active": True}, {"label": "Bitcoin (new!)", "active": True}):
        with pytest.raises(ReauthenticationRequired):
            save_payment_method(session, PaymentMethodInput("address", "BTC", BTC, **{"label": "Bitcoin", **change}),
                                actor=admin, method=method)
    with pytest.raises(ReauthenticationRequired):  # a proof of someone else is no proof
        save_payment_method(session, PaymentMethodInput("address", "BTC", BTC, "Bitcoin"), actor=admin,
                            method=method, proof=Reauthenticated(user_id=user.id + 1))
    save_payment_method(session, PaymentMethodInput("address", "BTC", BTC, "Bitcoin"), actor=admin, method=method,
                        proof=Reauthenticated(user_id=user.id))
    assert [m.id for m in list_payment_methods(session)] == [method.id, other.id]
    with pytest.raises(ReauthenticationRequired):
        move_payment_method(session, other, -1, actor=admin)
    assert move_payment_method(session, other, -1, actor=admin, proof=Reauthenticated(user_id=user.id))
    assert [m.id for m in list_payment_methods(session)] == [other.id, method.id]
    actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-2:] == ["payment_method.address_change", "payment_method.address_change"]
