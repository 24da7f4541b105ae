"""Fresh receiving addresses: one per article (`?ref=`), the next one after it is paid, within the gap limit.

A wallet restored from its seed looks for money only up to its gap limit past the last used
address (20 in most wallets), so the tracker never has more than `chains.gap_limit` unpaid
addresses of one key outstanding. Once it has, an article without an address of its own is
given the support page's address (gifts to it are not attributed to that article) and the
admin is told to raise both limits together.

No cookie or reader identifier is involved: the address depends only on the article.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import lock
from ..errors import InvalidQuery, NotFound
from ..models import REF_LENGTH, DerivedAddress, PaymentMethod, utcnow
from .backend import log
from .derivation import parse_extended_key

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~/-]*", re.ASCII)


def clean_ref(text: str | None) -> str | None:
    """An article reference from `?ref=`: a slug or an http(s) URL, at most 200 characters; None if empty.

    InvalidQuery (a 400 with the reason) for anything else, so a broken link says why.
    """
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if len(text) > REF_LENGTH:
        raise InvalidQuery(f"the article reference is too long (at most {REF_LENGTH} characters)")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp") for char in text):
        raise InvalidQuery("the article reference contains spaces or control characters")
    if text.lower().startswith(("http://", "https://")):
        url = urlsplit(text)
        if not url.hostname:
            raise InvalidQuery("the article reference is not a full URL")
        # The same article with or without a tracking query or a fragment is one article.
        path = url.path.rstrip("/") or ""
        return f"{url.scheme.lower()}://{url.netloc.lower()}{path}"
    if not _SLUG.fullmatch(text):
        raise InvalidQuery("the article reference is a slug (letters, digits, - _ . / ~) or an http(s) URL")
    return text


@dataclass(frozen=True)
class Handed:
    address: DerivedAddress
    #: False when the gap limit was reached and the support page's address was given instead.
    own: bool


def _unpaid(session: Session, method: PaymentMethod, ref: str | None) -> DerivedAddress | None:
    ref_is = DerivedAddress.ref.is_(None) if ref is None else DerivedAddress.ref == ref
    return session.scalar(select(DerivedAddress).where(
        DerivedAddress.payment_method_id == method.id, ref_is, DerivedAddress.paid_at.is_(None))
        .order_by(DerivedAddress.derivation_index).limit(1))


def receiving_address(session: Session, method: PaymentMethod, ref: str | None, *, gap_limit: int) -> Handed:
    """The address readers of `ref` are shown for an extended-key method, derived when needed (flushes)."""
    if method.kind != "xpub":
        raise ValueError("only an extended-key payment method derives addresses")
    existing = _unpaid(session, method, ref)
    if existing is not None:
        return Handed(existing, own=True)
    method = lock(session, method)  # one allocation at a time per key: indexes are handed out once
    existing = _unpaid(session, method, ref)
    if existing is not None:
        return Handed(existing, own=True)
    outstanding = session.scalar(select(func.count()).select_from(DerivedAddress).where(
        DerivedAddress.payment_method_id == method.id, DerivedAddress.paid_at.is_(None))) or 0
    if outstanding >= gap_limit:
        fallback = _unpaid(session, method, None) if ref is not None else None
        if fallback is None:
            fallback = session.scalar(select(DerivedAddress).where(
                DerivedAddress.payment_method_id == method.id, DerivedAddress.paid_at.is_(None))
                .order_by(DerivedAddress.derivation_index).limit(1))
        assert fallback is not None  # outstanding > 0
        log.warning("payment method %s: %d unpaid addresses, the gap limit: %r shares another address",
                    method.id, outstanding, ref)
        return Handed(fallback, own=False)
    last = session.scalar(select(func.max(DerivedAddress.derivation_index)).where(
        DerivedAddress.payment_method_id == method.id))
    index = 0 if last is None else last + 1
    key = parse_extended_key(method.coin, method.target)
    derived = DerivedAddress(payment_method_id=method.id, coin=method.coin, derivation_index=index,
                             address=key.address(index), ref=ref, created_at=utcnow())
    session.add(derived)
    session.flush()
    return Handed(derived, own=True)


def derived_address(session: Session, method: PaymentMethod, derived_id: int) -> DerivedAddress:
    """A derived address of `method` by id (for its QR code), or NotFound."""
    derived = session.get(DerivedAddress, derived_id)
    if derived is None or derived.payment_method_id != method.id:
        raise NotFound("there is no such address")
    return derived


def addresses_of(session: Session, method: PaymentMethod) -> list[DerivedAddress]:
    """The method's derived addresses by index (the admin's view of derivation indexes)."""
    return list(session.scalars(select(DerivedAddress).where(DerivedAddress.payment_method_id == method.id)
                                .order_by(DerivedAddress.derivation_index)))


def gap_reached(session: Session, method: PaymentMethod, gap_limit: int) -> bool:
    """True when the method has handed out as many unpaid addresses as the wallet's gap limit allows."""
    outstanding = session.scalar(select(func.count()).select_from(DerivedAddress).where(
        DerivedAddress.payment_method_id == method.id, DerivedAddress.paid_at.is_(None))) or 0
    return outstanding >= gap_limit
