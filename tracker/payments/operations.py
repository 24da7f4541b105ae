"""Payment methods: coin addresses (checksum-validated), links and contact e-mails; all audited.

An attacker who swaps an address receives every donation after it. Showing an old or planted
address again, moving it to the top or relabelling it "Bitcoin (new address!)" does the same
harm, so every change to what readers see (the target, coin, network, label, whether it is
shown, the order) needs a fresh re-authentication (`accounts.reauthenticate`) and is audited
as `payment_method.address_change` with before and after.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.operations import EMAIL, Reauthenticated
from ..audit import Actor, record_event, snapshot
from ..chains.derivation import parse_extended_key
from ..coins import COINS, InvalidAddress, validate_address
from ..errors import Forbidden, InvalidInput, NotFound
from ..models import PaymentMethod, utcnow

KINDS = ("address", "link", "email", "xpub")
#: What a reader sees of a payment method (its position aside): any change needs re-authentication.
VISIBLE = ("kind", "coin", "network", "target", "label", "active")
MAX_LABEL = 60
_URL = re.compile(r"https://[^\s<>\"']{3,290}")


@dataclass(frozen=True)
class PaymentMethodInput:
    kind: str
    coin: str
    target: str
    label: str = ""
    network: str = "mainnet"
    active: bool = True

    def __post_init__(self) -> None:
        # "Mainnet" and " mainnet" are the same network; store one spelling.
        object.__setattr__(self, "network", (self.network or "mainnet").strip().lower())


def _canonical_target(data: PaymentMethodInput) -> tuple[str, str]:
    """The (coin, target) to store, validated for the kind; InvalidInput with the reason."""
    if data.kind == "address":
        coin = data.coin.strip().upper()
        if coin not in COINS:
            raise InvalidInput(f"unsupported coin {coin!r}: one of {', '.join(COINS)}", field="coin")
        try:
            return coin, validate_address(coin, data.target, data.network)
        except InvalidAddress as exc:
            raise InvalidInput(str(exc), field="target") from None
    if data.kind == "xpub":
        # An account's extended public key: readers get addresses derived from it (chains.receiving).
        try:
            key = parse_extended_key(data.coin, data.target)
        except InvalidAddress as exc:
            raise InvalidInput(str(exc), field="target") from None
        return key.coin, key.text
    if data.kind == "link":
        target = data.target.strip()
        if not _URL.fullmatch(target):
            raise InvalidInput("a link must be a full https:// address", field="target")
        return (data.coin.strip() or "link")[:16], target
    if data.kind == "email":
        target = data.target.strip()
        if not EMAIL.fullmatch(target) or len(target) > 254:
            raise InvalidInput(f"{target!r} is not an e-mail address", field="target")
        return "email", target
    raise InvalidInput(f"the kind is one of {', '.join(KINDS)}", field="kind")


class ReauthenticationRequired(Forbidden):
    """A change readers would see, attempted without a fresh password (and code)."""


def _visible(method: PaymentMethod) -> tuple[object, ...]:
    return tuple(getattr(method, name) for name in VISIBLE)


def readers_would_see(data: PaymentMethodInput, method: PaymentMethod | None) -> bool:
    """True when saving `data` changes what readers are shown (a new, re-shown or altered method)."""
    coin, target = _canonical_target(data)
    if method is None:
        return data.active
    after = (data.kind, coin, data.network, target, data.label.strip(), data.active)
    return (method.active or data.active) and _visible(method) != after


def _require(proof: Reauthenticated | None, actor: Actor) -> None:
    if proof is None or proof.user_id != actor.user_id:
        raise ReauthenticationRequired("confirm this change with your password: readers would see it")


def _clean_label(label: str) -> str:
    label = label.strip()
    # The label travels inside the payment URI, percent-encoded (up to 12 bytes a character),
    # and the URI must still fit one QR code.
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"the label is too long (at most {MAX_LABEL} characters)", field="label")
    # Control and format characters (bidirectional overrides among them) can make a label
    # read differently from what it says, or hide part of it.
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in label):
        raise InvalidInput("the label contains control or direction-changing characters", field="label")
    return label


def get_payment_method(session: Session, method_id: int, *, active_only: bool = False) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None or (active_only and not method.active):
        raise NotFound("there is no such payment method")
    return method


def list_payment_methods(session: Session, *, active_only: bool = True) -> list[PaymentMethod]:
    query = select(PaymentMethod).order_by(PaymentMethod.position, PaymentMethod.id)
    if active_only:
        query = query.where(PaymentMethod.active.is_(True))
    return list(session.scalars(query))


def save_payment_method(session: Session, data: PaymentMethodInput, *, actor: Actor,
                        method: PaymentMethod | None = None, proof: Reauthenticated | None = None) -> PaymentMethod:
    """Add a payment method or change `method`; validated by checksum and audited before/after.

    A change readers would see (see `readers_would_see`) needs `proof` of a fresh
    re-authentication by the acting user.
    """
    coin, target = _canonical_target(data)
    label = _clean_label(data.label)
    visible = readers_would_see(data, method)
    if visible:
        _require(proof, actor)
    clash = session.scalar(select(PaymentMethod.id).where(
        PaymentMethod.coin == coin, PaymentMethod.network == data.network, PaymentMethod.target == target))
    if clash is not None and (method is None or clash != method.id):
        raise InvalidInput("this address is already listed", field="target")
    before = snapshot(method) if method is not None else None
    if method is None:
        position = session.scalar(select(PaymentMethod.position).order_by(
            PaymentMethod.position.desc()).limit(1))
        method = PaymentMethod(position=(position or 0) + 1)
        session.add(method)
    method.kind, method.coin, method.network = data.kind, coin, data.network
    method.target, method.label, method.active = target, label, data.active
    method.updated_at = utcnow()
    action = "payment_method.create" if before is None else (
        "payment_method.address_change" if visible else "payment_method.update")
    record_event(session, actor, action, method, before=before)
    return method


def move_payment_method(session: Session, method: PaymentMethod, offset: int, *, actor: Actor,
                        proof: Reauthenticated | None = None) -> bool:
    """Move a method up (-1) or down (+1) in the list shown to readers; False at either end.

    Reordering shown methods changes which address readers see first: it needs `proof`.
    """
    # Locked: two admins moving methods at once must not interleave their renumbering.
    methods = list(session.scalars(select(PaymentMethod).order_by(PaymentMethod.position, PaymentMethod.id)
                                   .with_for_update()))
    index = next(i for i, m in enumerate(methods) if m.id == method.id)
    other = index + offset
    if offset not in (-1, 1) or not 0 <= other < len(methods):
        return False
    if methods[index].active or methods[other].active:
        _require(proof, actor)
    before = [m.id for m in methods if m.active]
    methods[index], methods[other] = methods[other], methods[index]
    for position, item in enumerate(methods, start=1):
        item.position = position
        item.updated_at = utcnow()
    record_event(session, actor, "payment_method.address_change", entity="payment_method", entity_id=method.id,
                 before={"id": method.id, "shown_order": before},
                 after={"id": method.id, "shown_order": [m.id for m in methods if m.active]})
    return True
