"""What the support and campaign pages show: progress, ways to give, amount presets, the donor wall, QR payloads."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from .. import qr as qr_module
from ..campaigns.progress import Progress, campaign_progress
from ..chains.receiving import derived_address, receiving_address
from ..coins import COINS, Coin, InvalidAddress, format_amount, payment_uri
from ..donations.rates import NoExchangeRate, find_rate
from ..errors import InvalidQuery, NotFound
from ..models import MAX_ROW_ID, WALL, Campaign, Donation, PaymentMethod, utcnow
from ..money import MAX_MINOR, Money, MoneyError
from ..paging import Cursor, Page, keyset_page
from ..payments.operations import get_payment_method, list_payment_methods
from ..qr import qr_png, qr_svg
from ..widget.cache import RenderCache

log = logging.getLogger(__name__)


#: Donors shown per page of the donor wall.
DONORS_PER_PAGE = 20


#: Longest `?amount=` worth parsing: 100 million BTC written with every decimal is 18 characters.
MAX_AMOUNT_TEXT = 64


@dataclass(frozen=True)
class CoinRate:
    """How many goal-currency units one coin was worth, as of when, according to whom."""

    coin: str
    currency: str
    per_coin: Decimal
    as_of: datetime
    source: str


def latest_coin_rate(session: Session, coin: str, currency: str, at: datetime) -> CoinRate | None:
    """The newest stored rate between `coin` and `currency` at `at`, in either direction, or None."""
    candidates: list[CoinRate] = []
    try:
        rate = find_rate(session, coin, currency, at)
        candidates.append(CoinRate(coin, currency, rate.rate, rate.as_of, rate.source))
    except NoExchangeRate:
        pass
    try:
        # A rate recorded the other way round ("1 USD = 0.0000166 BTC") is as good, inverted.
        rate = find_rate(session, currency, coin, at)
        with localcontext() as context:
            context.prec = 50
            candidates.append(CoinRate(coin, currency, Decimal(1) / rate.rate, rate.as_of, rate.source))
    except NoExchangeRate:
        pass
    return max(candidates, key=lambda candidate: candidate.as_of, default=None)


@dataclass(frozen=True)
class AmountPreset:
    """"$10 ≈ 0.00016667 BTC": a goal-currency amount, its coin amount and the payment URI for it."""

    amount: Money
    coin_amount: Money
    #: The coin amount as `?amount=` text, without trailing zeros ("0.00016667").
    amount_text: str
    payment_uri: str
    #: The rate used; None when the goal currency is the coin itself (nothing was converted).
    rate: CoinRate | None
    #: How old the rate was when the page was built (never negative).
    rate_age: timedelta
    #: The rate's calendar day in the campaign's zone, and whether that day is today there.
    rate_date: date | None = None
    rate_today: bool = False


def coin_amount(amount: Money, rate: CoinRate) -> Money | None:
    """`amount` in the rate's coin, rounded half-even to the coin's places; None if it rounds to 0."""
    places = COINS[rate.coin].decimals
    with localcontext() as context:
        context.prec = 50
        exact = amount.to_decimal() / rate.per_coin
        minor = int(exact.scaleb(places).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if minor <= 0 or minor > MAX_MINOR:
        return None
    return Money(minor, rate.coin)


@dataclass(frozen=True)
class PaymentOption:
    """One way to give as the page shows it; the URI, QR version and presets only for addresses."""

    method: PaymentMethod
    coin: Coin | None = None
    payment_uri: str | None = None
    #: Changes whenever the QR code's content does, so a cached image is never shown for a new address.
    qr_version: str = ""
    presets: tuple[AmountPreset, ...] = ()
    #: The address in groups of four for display (see `address_groups`).
    address_groups: tuple[str, ...] = ()
    #: The address shown (for an extended key: the one derived for this article).
    address: str = ""
    #: The derived address's id, which its QR code's URL names (None for a plain address).
    derived_id: int | None = None


def parse_presets(presets: Sequence[str], currency: str) -> list[Money]:
    """The configured preset amounts that are valid, positive amounts in `currency`."""
    amounts = []
    for preset in presets:
        try:
            amounts.append(Money.parse(preset, currency))
        except MoneyError:
            # A preset like "10.5" for JPY cannot be offered exactly; leave it out rather than fail the page.
            log.warning("amount preset %r is not a valid %s amount: not shown", preset, currency)
    return amounts


def _presets_for(method: PaymentMethod, address: str, amounts: Sequence[Money], rate: CoinRate | None,
                 now: datetime, *, payee: str | None = None, zone: str = "UTC") -> tuple[AmountPreset, ...]:
    presets = []
    local = ZoneInfo(zone)
    rate_date = rate.as_of.astimezone(local).date() if rate else None
    for amount in amounts:
        if amount.currency == method.coin:
            converted: Money | None = amount
        elif rate is None:
            return ()  # no stored rate: offer no preset rather than a made-up figure
        else:
            converted = coin_amount(amount, rate)
        if converted is None:
            continue
        decimal = converted.to_decimal()
        presets.append(AmountPreset(
            amount=amount, coin_amount=converted, amount_text=format_amount(decimal, method.coin),
            payment_uri=payment_uri(method.coin, address, decimal, label=payee or None, network=method.network),
            rate=None if amount.currency == method.coin else rate,
            rate_age=max(now - rate.as_of, timedelta(0)) if rate else timedelta(0),
            rate_date=rate_date, rate_today=rate_date == now.astimezone(local).date()))
    return tuple(presets)


def payment_options(session: Session, *, presets: Sequence[str] = (), currency: str | None = None,
                    now: datetime | None = None, ref: str | None = None, gap_limit: int = 20,
                    payee: str | None = None, zone: str = "UTC") -> list[PaymentOption]:
    """The active payment methods in order, addresses with their URI and presets in `currency`.

    `payee` (the publication's name) is the URIs' label: a wallet shows it as who is paid, so it
    names the publication, not the coin. An extended-key method shows the address derived for
    the article `ref` (see chains.receiving); the key itself is never shown. `zone` decides what
    "today" is for the rate's date.
    """
    now = now or utcnow()
    amounts = parse_presets(presets, currency) if currency else []
    rates: dict[str, CoinRate | None] = {}
    options = []
    for method in list_payment_methods(session, active_only=True):
        if method.kind not in ("address", "xpub"):
            options.append(PaymentOption(method))
            continue
        coin = COINS.get(method.coin)
        address, derived_id = method.target, None
        try:
            if coin is None:
                raise InvalidAddress(f"unsupported coin {method.coin!r}")
            if method.kind == "xpub":
                derived = receiving_address(session, method, ref, gap_limit=gap_limit).address
                address, derived_id = derived.address, derived.id
            uri = payment_uri(coin.code, address, label=payee or None, network=method.network)
        except InvalidAddress as exc:
            # Never show readers an address the validator now refuses: money sent there may be lost.
            log.error("payment method %s is not shown: %s", method.id, exc)
            continue
        if amounts and coin.code not in rates and coin.code != amounts[0].currency:
            rates[coin.code] = latest_coin_rate(session, coin.code, amounts[0].currency, now)
        options.append(PaymentOption(
            method, coin, uri, qr_version=hashlib.sha256(uri.encode()).hexdigest()[:12],
            presets=_presets_for(method, address, amounts, rates.get(coin.code), now, payee=payee, zone=zone),
            address_groups=address_groups(address), address=address, derived_id=derived_id))
    return options


def address_groups(address: str) -> tuple[str, ...]:
    """An address cut into groups of four for reading (a "scheme:" prefix kept whole); joined, it is exact."""
    prefix, colon, rest = address.rpartition(":")
    head = (prefix + colon,) if colon else ()
    return head + tuple(rest[i:i + 4] for i in range(0, len(rest), 4))


@dataclass(frozen=True)
class DonorEntry:
    """A public donor: a name and/or a message, and when they gave."""

    name: str | None
    message: str | None
    received_at: datetime
    id: int
    #: The day it was given in its campaign's time zone (a gift at 23:30 in Berlin is that day's, not UTC's next).
    local_day: date | None = None


def donor_wall(session: Session, campaign_ids: Sequence[int], *, older_than: Cursor | None = None,
               newer_than: Cursor | None = None, per_page: int = DONORS_PER_PAGE) -> Page[DonorEntry]:
    """Public, confirmed donors of the campaigns, newest first, a page at a time.

    Read from an index of exactly the gifts a wall may show (models.WALL), in order, stopping
    after a page: the same cost at a thousand gifts and at a million.
    """
    if not campaign_ids:
        return Page((), None, None)
    # Pending gifts may never arrive and refunded ones were given back: only confirmed ones count.
    query = (select(Donation.donor_name, Donation.message, Donation.received_at, Donation.id, Donation.campaign_id)
             .where(Donation.campaign_id.in_(campaign_ids), text(WALL),
                    or_(func.length(func.coalesce(Donation.donor_name, "")) > 0,
                        func.length(func.coalesce(Donation.message, "")) > 0)))
    page = keyset_page(session, query, at=Donation.received_at, id_=Donation.id, scalars=False,
                       key=lambda row: Cursor(row[2], row[3]), per_page=per_page,
                       older_than=older_than, newer_than=newer_than)
    zones = {campaign_id: ZoneInfo(zone) for campaign_id, zone in session.execute(
        select(Campaign.id, Campaign.timezone).where(Campaign.id.in_(campaign_ids)))}
    entries = [DonorEntry(name or None, message or None, at, row_id, _local_day(at, zones.get(campaign_id)))
               for name, message, at, row_id, campaign_id in page.items]
    return Page(entries, page.older, page.newer)


def _local_day(moment: datetime, zone: ZoneInfo | None) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone or timezone.utc).date()


@dataclass(frozen=True)
class CampaignCard:
    """A campaign with its progress now (the bar is drawn from `progress.bar`)."""

    campaign: Campaign
    progress: Progress
    #: The title and description for the page's locale (the default texts where it has none).
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class SupportPage:
    """Everything the support page (or one campaign's page) shows."""

    cards: tuple[CampaignCard, ...]
    options: tuple[PaymentOption, ...]
    donors: Page[DonorEntry]
    #: Currency of the amount presets: the goal currency of the first campaign shown.
    preset_currency: str | None


def support_page(session: Session, campaigns: Sequence[Campaign], *, presets: Sequence[str] = (),
                 older_than: Cursor | None = None, newer_than: Cursor | None = None,
                 now: datetime | None = None, ref: str | None = None, gap_limit: int = 20,
                 payee: str | None = None, locale: str | None = None) -> SupportPage:
    """Build the support page for `campaigns`: progress, ways to give with presets, donor wall.

    `payee`, the publication's name, labels the payment URIs (see payment_options). Titles,
    descriptions and milestone labels are those for readers of `locale`.
    """
    now = now or utcnow()
    cards = []
    for campaign in campaigns:
        progress = campaign_progress(session, campaign, now, locale=locale)
        cards.append(CampaignCard(campaign, progress, campaign.text("title", locale),
                                  campaign.text("description", locale)))
    currency = campaigns[0].currency if campaigns else None
    return SupportPage(
        cards=tuple(cards),
        options=tuple(payment_options(session, presets=presets, currency=currency, now=now, ref=ref,
                                      gap_limit=gap_limit, payee=payee,
                                      zone=campaigns[0].timezone if campaigns else "UTC")),
        donors=donor_wall(session, [c.id for c in campaigns], older_than=older_than, newer_than=newer_than),
        preset_currency=currency,
    )


@dataclass(frozen=True)
class QrRequest:
    """What one QR code shows: a stored address, an optional amount, and the payment URI of both."""

    coin: Coin
    address: str
    amount: Money | None
    label: str
    uri: str


def qr_request(session: Session, method_id: int, amount_text: str | None = None,
               derived_id: int | None = None, payee: str | None = None) -> QrRequest:
    """The QR code of an active, stored address, with an optional amount in the coin's units.

    The address always comes from the database, never from the request, so nobody can make
    this site show their own address.
    """
    if not 1 <= method_id <= MAX_ROW_ID:
        raise NotFound("there is no such payment method")
    method = get_payment_method(session, method_id, active_only=True)
    coin = COINS.get(method.coin)
    if method.kind not in ("address", "xpub") or coin is None or (method.kind == "xpub") != (derived_id is not None):
        raise NotFound("this payment method has no QR code")
    address = method.target if derived_id is None else derived_address(session, method, derived_id).address
    amount = None
    if amount_text is not None:
        if len(amount_text) > MAX_AMOUNT_TEXT:
            raise InvalidQuery(f"the amount is too long to be a {coin.name} amount")
        try:
            amount = Money.parse(amount_text, coin.code)
        except MoneyError as exc:
            raise InvalidQuery(f"the amount is not a valid {coin.name} amount: {exc}") from None
    uri = payment_uri(coin.code, address, amount.to_decimal() if amount else None, label=payee or None,
                      network=method.network)
    return QrRequest(coin, address, amount, method.label or "", uri)


def qr_payment_uri(session: Session, method_id: int, amount_text: str | None = None,
                   derived_id: int | None = None, payee: str | None = None) -> str:
    """The payment URI a QR image encodes (see qr_request)."""
    return qr_request(session, method_id, amount_text, derived_id, payee).uri


@dataclass(frozen=True)
class QrImage:
    """A rendered QR code with its media type and a strong ETag."""

    body: bytes
    mimetype: str
    etag: str


QR_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
#: Drawn QR codes by (uri, format); peeked before drawing, so new amounts spend the render budget.
_QR_DRAWN = RenderCache(512)
#: Changes with the drawing code, so an upgrade never answers 304 for different bytes.
_QR_SALT = hashlib.sha256(Path(qr_module.__file__).read_bytes()).hexdigest()[:12]


def qr_etag(uri: str, fmt: str) -> str:
    """The ETag of a QR image, known before drawing it: a 304 costs no drawing."""
    return hashlib.sha256(f"{_QR_SALT}:{fmt}:{uri}".encode()).hexdigest()[:32]


def qr_is_drawn(uri: str, fmt: str) -> bool:
    """True when this QR image is already drawn (serving it costs nothing)."""
    return _QR_DRAWN.peek((uri, fmt)) is not None


def render_qr(uri: str, fmt: str) -> QrImage:
    """The QR code of `uri` as "svg" or "png" (drawn once per content and format)."""
    if fmt not in QR_FORMATS:
        raise ValueError(f"unknown QR format {fmt!r}")

    def draw() -> QrImage:
        body = qr_svg(uri).encode() if fmt == "svg" else qr_png(uri)
        return QrImage(body, QR_FORMATS[fmt], qr_etag(uri, fmt))

    image: QrImage = _QR_DRAWN.get_or_render((uri, fmt), draw)
    return image
