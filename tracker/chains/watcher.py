"""A watcher's pass over one coin: ask the backend, then record, confirm or take back out through the ledger.

A pass has two halves. `observe` reads what to ask (the coin's addresses, the payments still
followed, the cursor) and asks the backend; it writes nothing, so it can run outside a
writing transaction while the network is slow. `apply` then locks the coin's watcher row
(one pass per coin at a time on PostgreSQL; SQLite's write lock does the same) and turns the
answer into ledger entries. Every write is keyed: a payment is unique on (coin, txid,
output), its donation on ("chain", "coin:txid:output"), and every transition re-reads its row
locked and checks the state first, so a pass applied twice, or two passes at once, have the
effect of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Actor
from ..campaigns.operations import list_campaigns
from ..config import CHAIN_BACKENDS, ChainSettings, Settings
from ..db import upsert_for
from ..donations.ledger import confirm_donation, record_donation, refund_donation
from ..donations.rates import NoExchangeRate, find_rate
from ..errors import DomainError
from ..models import Campaign, ChainPayment, ChainWatcher, DerivedAddress, Donation, PaymentMethod, utcnow
from ..money import Money
from .backend import Backend, BackendError, Known, Observation, Received, log
from .blockbook import Blockbook
from .esplora import Esplora
from .ethereum import EthereumRpc
from .monero import MoneroWalletRpc

#: Confirmations at which a gift counts as raised when `chains.<coin>.confirmations` is 0.
DEFAULT_CONFIRMATIONS = {"btc": 2, "ltc": 6, "bch": 6, "doge": 20, "eth": 12, "xmr": 10}
#: Who the audit log names for the watchers' entries.
WATCHER = Actor(name="chain watcher")
#: States whose payment the watcher still follows.
FOLLOWED = ("seen", "pending", "needs_rate")
#: The longest wait between two passes of a failing watcher.
MAX_BACKOFF = timedelta(hours=1)


def chain_settings(settings: Settings, coin: str) -> ChainSettings:
    chain: ChainSettings = getattr(settings.chains, coin.lower())
    return chain


def watched_coins(settings: Settings) -> list[str]:
    """Codes (BTC, …) of the coins with a configured backend."""
    return [coin.upper() for coin in CHAIN_BACKENDS if chain_settings(settings, coin).backend]


def required_confirmations(settings: Settings, coin: str) -> int:
    return chain_settings(settings, coin).confirmations or DEFAULT_CONFIRMATIONS[coin.lower()]


def make_backend(settings: Settings, coin: str) -> Backend:
    """The configured backend of a coin."""
    chain = chain_settings(settings, coin)
    if chain.backend == "esplora":
        return Esplora(chain.url)
    if chain.backend == "blockbook":
        return Blockbook(chain.url)
    if chain.backend == "jsonrpc":
        return EthereumRpc(chain.url)
    if chain.backend == "wallet-rpc":
        return MoneroWalletRpc(chain.url)
    raise ValueError(f"{coin} is not watched")


def backoff(settings: Settings, coin: str, failures: int) -> timedelta:
    """The wait before the next pass: the poll interval, doubled after each failure in a row, at most an hour."""
    return min(timedelta(seconds=chain_settings(settings, coin).poll_seconds * 2 ** min(failures, 10)), MAX_BACKOFF)


@dataclass
class PassResult:
    """What one pass over one coin did, for the one-line summary."""

    coin: str
    ok: bool
    addresses: int = 0
    recorded: int = 0
    confirmed: int = 0
    removed: int = 0
    waiting: int = 0
    error: str = ""
    failures: int = 0
    next_poll_at: datetime | None = None

    def summary(self) -> str:
        if not self.ok:
            retry = f"; next try {self.next_poll_at:%H:%M:%S} UTC" if self.next_poll_at else ""
            return f"{self.coin}: failed ({self.failures} in a row): {self.error}{retry}"
        return (f"{self.coin}: ok, {self.addresses} address(es), {self.recorded} new, {self.confirmed} confirmed, "
                f"{self.removed} taken back out, {self.waiting} waiting for a rate or a campaign")


Watched = dict[str, tuple[PaymentMethod, DerivedAddress | None]]


def _watched(session: Session, coin: str) -> Watched:
    """Every address of the coin to watch: the address methods and the addresses derived from extended keys."""
    # Hidden ones too: money sent to an address readers saw yesterday is still a gift.
    watched: Watched = {m.target: (m, None) for m in session.scalars(select(PaymentMethod).where(
        PaymentMethod.kind == "address", PaymentMethod.coin == coin).order_by(PaymentMethod.id))}
    for derived, method in session.execute(
            select(DerivedAddress, PaymentMethod).join(PaymentMethod)
            .where(DerivedAddress.coin == coin).order_by(DerivedAddress.id)):
        watched[derived.address] = (method, derived)
    return watched


def _following(session: Session, coin: str) -> list[Known]:
    rows = session.scalars(select(ChainPayment).where(ChainPayment.coin == coin, ChainPayment.state.in_(FOLLOWED))
                           .order_by(ChainPayment.id))
    return [Known(p.txid, p.output_index, p.address) for p in rows]


def _status(session: Session, coin: str) -> ChainWatcher:
    """The coin's watcher row, created on first use and locked until the transaction ends."""
    session.execute(upsert_for(session)(ChainWatcher).values(coin=coin, last_error="", failures=0, updated_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["coin"]))
    return session.scalars(select(ChainWatcher).where(ChainWatcher.coin == coin).with_for_update()
                           .execution_options(populate_existing=True)).one()


def observe(session: Session, settings: Settings, coin: str, backend: Backend | None = None) -> Observation:
    """Ask the coin's backend about its addresses and followed payments (reads only; BackendError on failure)."""
    coin = coin.upper()
    addresses = list(_watched(session, coin))
    if not addresses:
        return Observation()
    watcher = session.get(ChainWatcher, coin)
    backend = backend or make_backend(settings, coin)
    return backend.observe(addresses, _following(session, coin), watcher.cursor if watcher else None)


def record_failure(session: Session, settings: Settings, coin: str, error: str, *,
                   now: datetime | None = None) -> PassResult:
    """Note a failed pass: the reason, one more failure in a row, a longer wait."""
    now = now or utcnow()
    coin = coin.upper()
    log.warning("%s watcher: %s", coin, error)
    status = _status(session, coin)
    status.failures += 1
    status.last_error, status.last_error_at = error[:1000], now
    status.next_poll_at = now + backoff(settings, coin, status.failures)
    status.updated_at = now
    session.flush()
    return PassResult(coin, ok=False, error=error, failures=status.failures, next_poll_at=status.next_poll_at)


def apply(session: Session, settings: Settings, coin: str, observation: Observation, *,
          now: datetime | None = None) -> PassResult:
    """Turn a backend's answer into pending, confirmed and taken-back-out donations; idempotent."""
    now = now or utcnow()
    coin = coin.upper()
    status = _status(session, coin)  # locked: passes over one coin apply one after the other
    watched = _watched(session, coin)
    result = PassResult(coin, ok=True, addresses=len(watched))
    needed = required_confirmations(settings, coin)
    for item in observation.received:
        if item.address not in watched:
            log.warning("%s watcher: %s pays %s, which is not watched: ignored", coin, item.txid, item.address)
            continue
        method, derived = watched[item.address]
        if derived is not None and derived.paid_at is None:
            derived.paid_at = now  # its article gets the next address from now on
        _apply_received(session, settings, coin, item, method, derived.ref if derived else None, needed, now,
                        result)
    for known in observation.gone:
        _apply_gone(session, coin, known, needed, now, result)
    status.failures, status.last_error = 0, ""
    status.last_success_at = now
    status.next_poll_at = now + backoff(settings, coin, 0)
    status.cursor = observation.cursor
    status.updated_at = now
    session.flush()
    result.next_poll_at = status.next_poll_at
    return result


def watch_coin(session: Session, settings: Settings, coin: str, *, backend: Backend | None = None,
               now: datetime | None = None) -> PassResult:
    """One pass over one coin in one transaction (the worker's way; the CLI splits the two halves)."""
    try:
        observation = observe(session, settings, coin, backend)
    except BackendError as exc:
        return record_failure(session, settings, coin, str(exc), now=now)
    return apply(session, settings, coin, observation, now=now)


def due_coins(session: Session, settings: Settings, now: datetime | None = None) -> list[str]:
    """The watched coins whose next poll has come (all of them on the first pass)."""
    now = now or utcnow()
    due = []
    for coin in watched_coins(settings):
        status = session.get(ChainWatcher, coin)
        if status is None or status.next_poll_at is None or status.next_poll_at <= now:
            due.append(coin)
    return due


def watch_all(session: Session, settings: Settings) -> list[PassResult]:
    """The periodic job: one pass over each watched coin that is due."""
    return [watch_coin(session, settings, coin) for coin in due_coins(session, settings)]


# --- applying one answer ---------------------------------------------------------------------

def _payment(session: Session, coin: str, item: Received, method: PaymentMethod, now: datetime) -> ChainPayment:
    """The payment row of `item`, inserted if new (ON CONFLICT DO NOTHING), locked."""
    session.execute(upsert_for(session)(ChainPayment).values(
        coin=coin, txid=item.txid, output_index=item.index, address=item.address, payment_method_id=method.id,
        amount_minor=item.amount_minor, confirmations=item.confirmations, state="seen", reason=item.note,
        tx_time=item.time or now, first_seen_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["coin", "txid", "output_index"]))
    return session.scalars(select(ChainPayment).where(
        ChainPayment.coin == coin, ChainPayment.txid == item.txid, ChainPayment.output_index == item.index)
        .with_for_update().execution_options(populate_existing=True)).one()


def external_id(payment: ChainPayment) -> str:
    """The donation's idempotency key: the chain, the txid and the output (Monero: the subaddress index)."""
    return f"{payment.coin.lower()}:{payment.txid}:{payment.output_index}"


def _campaign(session: Session, at: datetime) -> Campaign | None:
    """The campaign a chain gift counts in: the first active one (as on the support page) running at `at`."""
    for campaign in list_campaigns(session, statuses=("active",)):
        if (campaign.starts_at is None or campaign.starts_at <= at) and (campaign.ends_at is None
                                                                         or at < campaign.ends_at):
            return campaign
    return None


def _rate_problem(session: Session, settings: Settings, coin: str, campaign: Campaign, at: datetime) -> str:
    """Why the gift cannot be converted yet ("" when it can): no rate, or only one older than allowed."""
    if campaign.currency == coin:
        return ""
    try:
        rate = find_rate(session, coin, campaign.currency, at)
    except NoExchangeRate:
        return f"needs a rate: no {coin}→{campaign.currency} rate on or before {at:%Y-%m-%d %H:%M} UTC"
    oldest = at - timedelta(hours=settings.rates.max_age_hours)
    if rate.as_of < oldest:
        return (f"needs a rate: the newest {coin}→{campaign.currency} rate is from {rate.as_of:%Y-%m-%d %H:%M} UTC, "
                f"older than {settings.rates.max_age_hours} h")
    return ""


def _apply_received(session: Session, settings: Settings, coin: str, item: Received, method: PaymentMethod,
                    ref: str | None, needed: int, now: datetime, result: PassResult) -> None:
    payment = _payment(session, coin, item, method, now)
    if payment.state == "removed":
        if payment.updated_at < now:  # say it once per pass, change nothing: its refund stays in the ledger
            log.warning("%s watcher: %s:%d was taken back out but is seen again: record it by hand if it is final",
                        coin, item.txid, item.index)
        return
    payment.confirmations = item.confirmations
    if item.time is not None and payment.donation_id is None:
        payment.tx_time = item.time
    payment.updated_at = now
    if payment.state in ("seen", "needs_rate"):
        _record(session, settings, payment, ref, needed, result)
    elif payment.state == "pending" and payment.confirmations >= needed:
        donation = session.get_one(Donation, payment.donation_id)
        if donation.status == "refunded":  # an admin took it out by hand: the watcher does not undo that
            payment.state, payment.reason = "removed", "refunded in the admin before it was confirmed"
        else:
            if donation.status == "pending":
                confirm_donation(session, donation, actor=WATCHER)
            payment.state = "confirmed"
            result.confirmed += 1
    session.flush()


def _record(session: Session, settings: Settings, payment: ChainPayment, ref: str | None, needed: int,
            result: PassResult) -> None:
    campaign = _campaign(session, payment.tx_time)
    if campaign is None:
        payment.state, payment.reason = "seen", "no active campaign to count it in"
        result.waiting += 1
        return
    problem = _rate_problem(session, settings, payment.coin, campaign, payment.tx_time)
    if problem:
        payment.state, payment.reason = "needs_rate", problem
        result.waiting += 1
        return
    confirmed = payment.confirmations >= needed
    try:
        recorded = record_donation(
            session, campaign, Money(payment.amount_minor, payment.coin), actor=WATCHER, source="chain",
            external_id=external_id(payment), status="confirmed" if confirmed else "pending",
            received_at=payment.tx_time, ref=ref)
    except DomainError as exc:  # worth less than a cent, say: it waits, visible, never half-recorded
        payment.state, payment.reason = "needs_rate", exc.message
        result.waiting += 1
        return
    payment.donation_id = recorded.donation.id
    payment.state = "confirmed" if recorded.donation.status == "confirmed" else "pending"
    payment.reason = "" if payment.reason.startswith(("needs a rate", "no active")) else payment.reason
    if recorded.created:
        result.recorded += 1
        result.confirmed += confirmed


def _apply_gone(session: Session, coin: str, known: Known, needed: int, now: datetime, result: PassResult) -> None:
    payment = session.scalars(select(ChainPayment).where(
        ChainPayment.coin == coin, ChainPayment.txid == known.txid, ChainPayment.output_index == known.index)
        .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if payment is None or payment.state not in FOLLOWED:
        return
    reason = (f"{coin} transaction {known.txid} disappeared from the chain before {needed} confirmations "
              f"(replaced, double-spent or reorganised out)")
    if payment.donation_id is not None:
        donation = session.get_one(Donation, payment.donation_id)
        if donation.status != "refunded":
            refund_donation(session, donation, actor=WATCHER, reason=reason)
    payment.state, payment.reason, payment.updated_at = "removed", reason, now
    result.removed += 1
    session.flush()


def payments(session: Session, coin: str | None = None) -> Sequence[ChainPayment]:
    """The payments seen, newest first (the admin's and the tests' view)."""
    query = select(ChainPayment).order_by(ChainPayment.first_seen_at.desc(), ChainPayment.id.desc())
    if coin:
        query = query.where(ChainPayment.coin == coin.upper())
    return list(session.scalars(query))
