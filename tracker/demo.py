"""Demo data: the reference page's campaign (5,000 USD a month, 2,160 USD raised so far)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .accounts.operations import SERVER_SHELL
from .audit import Actor
from .campaigns.operations import CampaignInput, MilestoneInput, save_campaign
from .campaigns.progress import period_window
from .donations.ledger import record_donation
from .donations.rates import record_rate
from .models import Campaign, utcnow
from .money import Money
from .payments.operations import PaymentMethodInput, save_payment_method

#: Addresses from the standards' own examples (BIP173 and the CashAddr specification), so the
#: demo never shows a real organisation's address. Nobody should send money to them.
DEMO_BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
DEMO_BCH_ADDRESS = "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"
DEMO_CONTACT = "support@example.org"

# (amount, currency, donor, message); crypto amounts convert exactly at the demo rates below,
# so the total is 2,160 USD to the cent: 1,880 USD + 280 USD worth of BTC and BCH.
_USD_CYCLE = ("25", "50", "10", "100", "20", "75", "30", "15", "60", "40")
_DONATIONS: list[tuple[str, str]] = (
    [(amount, "USD") for amount in _USD_CYCLE * 3]
    + [("200", "USD"), ("150", "USD"), ("100", "USD"), ("80", "USD"), ("75", "USD")]
    + [("0.001", "BTC"), ("0.0005", "BTC"), ("0.002", "BTC"), ("0.05", "BCH"), ("0.125", "BCH")]
)
_DONORS = {
    0: ("Anna K.", "Thank you for the local election coverage!"),
    3: ("Ben", "Keep it free to read."),
    7: ("M. Okafor", None),
    12: ("Clara & Jonas", "For the climate desk <3"),
    19: ("Reader from Leipzig", "Danke!"),
    30: ("Sam", "Happy to help the newsroom stay independent."),
    35: ("Satoshi fan", "Paid in sats."),
}
DEMO_RATES = {"BTC": Decimal("60000"), "BCH": Decimal("400")}


def has_data(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Campaign)))


def load_demo(session: Session, *, now: datetime | None = None, actor: Actor | None = None) -> Campaign:
    """Create campaign `demo` with its donations, rates and payment methods. Flushes only."""
    actor = actor or Actor.cli()
    now = now or utcnow()
    campaign = save_campaign(session, CampaignInput(
        slug="demo",
        title="Keep our reporting independent",
        description="Reader support pays for our reporters, hosting and tools. No paywall, no tracking.",
        target=Money.parse("5000", "USD"),
        period="monthly",
        timezone="Europe/Berlin",
        status="active",
        milestones=[MilestoneInput(Money.parse("2500", "USD"), "Halfway: hosting and tools are paid")],
    ), actor=actor)
    start, _end = period_window("monthly", "Europe/Berlin", now)  # type: ignore[misc]
    for coin, rate in DEMO_RATES.items():
        record_rate(session, coin, "USD", rate, start - timedelta(days=1),
                    "demo: example rate, not a market price", actor)
    span = now - start
    for index, (amount, currency) in enumerate(_DONATIONS):
        donor, message = _DONORS.get(index, (None, None))
        record_donation(
            session, campaign, Money.parse(amount, currency), actor=actor,
            external_id=f"demo-{index + 1}", received_at=start + span * (index + 1) / (len(_DONATIONS) + 1),
            donor_name=donor, message=message, is_public=donor is not None, audit=False)
    save_payment_method(session, PaymentMethodInput(
        kind="address", coin="BTC", target=DEMO_BTC_ADDRESS, label="Bitcoin"), actor=actor, proof=SERVER_SHELL)
    save_payment_method(session, PaymentMethodInput(
        kind="address", coin="BCH", target=DEMO_BCH_ADDRESS, label="Bitcoin Cash"), actor=actor, proof=SERVER_SHELL)
    save_payment_method(session, PaymentMethodInput(
        kind="email", coin="email", target=DEMO_CONTACT, label="Other ways to give"), actor=actor, proof=SERVER_SHELL)
    return campaign
