"""SQLAlchemy 2 typed models: campaigns, the donation ledger, payment methods, users, audit."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Kept in a module of its own so `tracker create-admin --help` offers the roles without loading SQLAlchemy;
# re-exported here, where the rest of the code looks for it.
from .roles import ROLES as ROLES

# Constraint names are fixed so Alembic migrations can name what they alter on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PERIODS = ("once", "monthly", "quarterly", "yearly")
CAMPAIGN_STATUSES = ("draft", "active", "archived")
#: Where a gift came from. Processors' webhooks and their CSV exports share one source per
#: processor, so the same payment arriving both ways is one donation (their own id is the key).
DONATION_SOURCES = ("manual", "csv", "import", "adjustment", "api",
                    "stripe", "btcpay", "kofi", "github", "standard", "paypal", "opencollective", "givewp",
                    "chain")
#: Longest `ref` (an article's slug or URL) a gift may be attributed to.
REF_LENGTH = 200
DONATION_STATUSES = ("pending", "confirmed", "refunded")
#: Integer primary keys are 32-bit on PostgreSQL: a larger id in a URL or a file names no row,
#: and handing it to the database would be an "integer out of range" error, not a 404.
MAX_ROW_ID = 2**31 - 1


def role_allows(role: str, needed: str) -> bool:
    """True when `role` may do what `needed` may (owner > admin > viewer)."""
    return ROLES.index(role) <= ROLES.index(needed)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def translated(translations: dict[str, dict[str, str]] | None, name: str, locale: str | None) -> str:
    """The text `name` in `locale` ("de", or "de_AT" falling back to "de"), "" when there is none."""
    if not translations or not locale:
        return ""
    for key in dict.fromkeys((locale, locale.split("_")[0])):
        text_ = (translations.get(key) or {}).get(name)
        if isinstance(text_, str) and text_.strip():
            return text_
    return ""


#: The gifts a donor wall may show: public, confirmed, not an adjustment (index predicate and query).
WALL = "is_public AND status = 'confirmed' AND source <> 'adjustment'"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given: use an aware datetime (UTC)")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as text: SQLAlchemy's Numeric goes through float on SQLite."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError("exchange rates are finite Decimals, never floats")
        return format(value.normalize(), "f")

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """Someone who can sign in to /admin."""

    __tablename__ = "user"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name; an e-mail address, stored lower-case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="admin")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Base32 TOTP secret when two-factor login is on.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: The 30-second step of the last TOTP code accepted; a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: A secret shown for enrolment but not yet confirmed; kept here, not in the cookie, and
    #: forgotten when the user signs out.
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    #: Bumped to sign out every session of this user ("log out everywhere").
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """One signed-in browser: signing out deletes the row, so a copied cookie stops working too."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user", "user_id"),)

    #: SHA-256 of the random token in the session cookie (the token itself is never stored).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The session ends here whatever happens (security.session_hours after signing in).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A donation goal: one-off or repeating each month, quarter or year."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("target_minor > 0", name="target_positive"),
        CheckConstraint(_in("period", PERIODS), name="period_known"),
        CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status_known"),
        CheckConstraint("length(slug) > 0", name="slug_not_empty"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: URL name: lower-case letters, digits and hyphens.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Goal currency; every donation is converted into it.
    currency: Mapped[str] = mapped_column(String(5))
    #: Goal per period, in minor units of `currency`.
    target_minor: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(16), default="once")
    #: IANA zone in which periods start at local midnight.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Deadline; days left count down to it.
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: Widget display options (theme, accent, show_donors…), validated by the campaigns module.
    display: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The admin's texts in other locales, {"de": {"title": "…", "description": "…"}}; a text
    #: missing or empty there is shown in the default one (`text`).
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict,
                                                                      server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="campaign", order_by="Milestone.amount_minor", cascade="all, delete-orphan")

    def text(self, name: str, locale: str | None = None) -> str:
        """The `title` or `description` for readers of `locale`, else the default text."""
        return translated(self.translations, name, locale) or getattr(self, name)


class Milestone(Base):
    """A labelled amount on the way to the goal (a tick on the bar)."""

    __tablename__ = "milestone"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        UniqueConstraint("campaign_id", "amount_minor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(200), default="")
    #: The label in other locales, {"de": {"label": "…"}}, as on the campaign.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict,
                                                                      server_default=text("'{}'"))

    campaign: Mapped[Campaign] = relationship(back_populates="milestones")

    def text(self, name: str, locale: str | None = None) -> str:
        """The `label` for readers of `locale`, else the default label."""
        return translated(self.translations, name, locale) or getattr(self, name)


class ExchangeRate(Base):
    """How many units of `quote` one unit of `base` was worth, as of a time, from a source."""

    __tablename__ = "exchange_rate"
    __table_args__ = (
        CheckConstraint("base <> quote", name="distinct_currencies"),
        UniqueConstraint("base", "quote", "as_of", "source"),
        Index("ix_exchange_rate_pair_as_of", "base", "quote", "as_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    base: Mapped[str] = mapped_column(String(5))
    quote: Mapped[str] = mapped_column(String(5))
    #: Exact decimal, stored as text (positivity is checked by the rates module).
    rate: Mapped[Decimal] = mapped_column(DecimalText)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Where the figure came from: "manual", an exchange's name, a URL.
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Donation(Base):
    """One entry of the ledger. Progress is always summed from these, never typed in."""

    __tablename__ = "donation"
    __table_args__ = (
        CheckConstraint(_in("source", DONATION_SOURCES), name="source_known"),
        CheckConstraint(_in("status", DONATION_STATUSES), name="status_known"),
        # Only an adjustment may be negative (it corrects the total); nothing is ever zero.
        CheckConstraint("amount_minor > 0 OR (source = 'adjustment' AND amount_minor <> 0)",
                        name="amount_sign"),
        CheckConstraint("(goal_amount_minor > 0) = (amount_minor > 0)", name="goal_amount_sign"),
        CheckConstraint("(currency = goal_currency) OR (rate IS NOT NULL AND rate_source IS NOT NULL)",
                        name="conversion_explained"),
        CheckConstraint("source <> 'adjustment' OR length(reason) > 0", name="adjustment_has_reason"),
        # The idempotency key: the same external id from the same source is one donation.
        UniqueConstraint("source", "external_id"),
        # Each list of the ledger reads one of these in order and stops (newest first, the id
        # breaking ties): the admin's filters, the latest gifts, the donor walls.
        Index("ix_donation_campaign_received", "campaign_id", "received_at", "id"),
        Index("ix_donation_received", "received_at", "id"),
        Index("ix_donation_status_received", "status", "received_at", "id"),
        Index("ix_donation_campaign_status_received", "campaign_id", "status", "received_at", "id"),
        Index("ix_donation_source_received", "source", "received_at", "id"),
        Index("ix_donation_external_id", "external_id"),
        # The donor walls: only the gifts they may show, in order.
        Index("ix_donation_wall", "campaign_id", "received_at", "id",
              sqlite_where=text(WALL), postgresql_where=text(WALL)),
        Index("ix_donation_wall_all", "received_at", "id", sqlite_where=text(WALL), postgresql_where=text(WALL)),
        # One campaign's gifts in ledger order: its CSV export (migration 0010).
        Index("ix_donation_campaign_id", "campaign_id", "id"),
        # The "by article" report: gifts per ref of one campaign.
        Index("ix_donation_campaign_ref", "campaign_id", "ref", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identity across export and import (ids differ between databases).
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="RESTRICT"))
    #: Amount as given, in minor units of `currency`.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(5))
    #: The same amount in the campaign's currency, in its minor units.
    goal_amount_minor: Mapped[int] = mapped_column(BigInteger)
    goal_currency: Mapped[str] = mapped_column(String(5))
    #: Goal-currency units per unit of `currency`, when converted.
    rate: Mapped[Decimal | None] = mapped_column(DecimalText)
    rate_source: Mapped[str | None] = mapped_column(String(200))
    rate_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exchange_rate_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_rate.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), default="manual")
    #: Id in the source system (a transaction id, a CSV row key); unique per source.
    external_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    donor_name: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    #: The donor agreed to appear on the donor wall.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Why an adjustment or a correction was made.
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The article (slug or URL) the gift is attributed to: `?ref=` on the support page, a
    #: processor's metadata, or the fresh address handed out for that article.
    ref: Mapped[str | None] = mapped_column(String(REF_LENGTH))
    #: A renewal of a subscription or sponsorship rather than a one-off gift.
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Start (UTC) of the campaign period this donation counts in; see progress.period_key.
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class PeriodTotal(Base):
    """Maintained aggregate of the ledger per campaign period, so reading progress is one lookup.

    Written only by the ledger module in the same transaction as the donation it reflects,
    and checkable against the ledger with `ledger.verify_totals`.
    """

    __tablename__ = "period_total"
    __table_args__ = (
        CheckConstraint("confirmed_count >= 0 AND pending_count >= 0", name="counts_not_negative"),
        CheckConstraint("pending_minor >= 0", name="pending_not_negative"),
    )

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    #: Confirmed donations and adjustments, in the goal currency's minor units.
    raised_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Confirmed donations, adjustments excluded: the "donors" figure.
    confirmed_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DayTotal(Base):
    """Maintained confirmed totals per campaign and local calendar day, for the dashboard's chart.

    Written only by the ledger module, in the same transaction as the donation it reflects;
    the day is the donation's received-at date in the campaign's time zone.
    """

    __tablename__ = "day_total"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: Confirmed gifts of the day (adjustments apart), in the goal currency's minor units.
    gifts_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    gift_count: Mapped[int] = mapped_column(Integer, default=0)
    #: "Set raised to" adjustments of the day: shown apart, never as gifts.
    adjusted_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleTotal(Base):
    """Maintained aggregate of the confirmed gifts per article (`ref`) and campaign period.

    What the "by article" report and the widget of one article read: one row per article and
    period rather than a sum over the article's gifts, which at a million gifts took seconds.
    Written only by the ledger module, in the same transaction as the donation it reflects
    (adjustments and gifts without an article are not in it), checked by `ledger.verify_totals`.
    """

    __tablename__ = "article_total"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    ref: Mapped[str] = mapped_column(String(REF_LENGTH), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    gift_count: Mapped[int] = mapped_column(Integer, default=0)
    #: In the goal currency's minor units.
    gifts_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentMethod(Base):
    """A way to give: a crypto address, a link or a contact e-mail, shown on the support page."""

    __tablename__ = "payment_method"
    __table_args__ = (
        CheckConstraint("kind IN ('address', 'link', 'email', 'xpub')", name="kind_known"),
        CheckConstraint("length(target) > 0", name="target_not_empty"),
        UniqueConstraint("coin", "network", "target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "address" for a coin address, "link" for a URL (bank page, Liberapay, …), "email"
    #: for a contact address readers write to for other ways to give, "xpub" for an account's
    #: extended public key from which readers get fresh addresses (see chains.receiving).
    kind: Mapped[str] = mapped_column(String(16), default="address")
    #: Coin code (BTC, BCH, ETH…) for addresses; a channel name for links.
    coin: Mapped[str] = mapped_column(String(16))
    network: Mapped[str] = mapped_column(String(16), default="mainnet")
    #: The canonical address (validated by checksum), the URL or the e-mail address.
    target: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- Engine: periodic leases, the outbox of events, outgoing webhooks ---

#: Events an outgoing webhook endpoint may subscribe to (docs/webhooks.md).
WEBHOOK_EVENTS = ("donation.recorded", "donation.confirmed", "donation.refunded", "milestone.reached",
                  "goal.reached", "period.closed")
#: Events only e-mailed to the publisher, never sent to webhooks.
NOTICE_EVENTS = ("endpoint.disabled", "watcher.failing")
DELIVERY_STATES = ("pending", "delivered", "failed")


class JobLease(Base):
    """When a periodic job next runs. A consumer runs it only if it moves `next_run_at` on
    itself (a conditional UPDATE), so a schedule runs once per deployment however many
    consumers, on however many hosts, see it come due."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    holder: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class OutboxEvent(Base):
    """Something that happened, written in the transaction that made it happen (the outbox
    pattern): deliveries and e-mails are made from these, so a crash between the change and
    the notice loses nothing, and the unique key makes each notice happen once."""

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "donation.recorded:<uid>", "milestone.reached:<campaign>:<period>:<milestone>".
    key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: When the publisher was e-mailed about it; NULL while a message is still owed.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_due: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class WebhookEndpoint(Base):
    """A URL of the publisher's that is told about events, signed per Standard Webhooks."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    #: Space-separated event types (WEBHOOK_EVENTS).
    events: Mapped[str] = mapped_column(String(400))
    #: "whsec_" + base64 of 32 random bytes; shown once, when the endpoint is made.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Since when every delivery has failed (NULL while the endpoint answers).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def event_types(self) -> list[str]:
        return self.events.split()


class WebhookDelivery(Base):
    """One event for one endpoint, retried with backoff until it is delivered or given up."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint(_in("state", DELIVERY_STATES), name="state_known"),
        Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"))
    #: The webhook-id header: the same for every attempt, so receivers can drop repeats.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A sender holds the delivery until then (a worker killed mid-send lets it go again).
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[OutboxEvent] = relationship()


class WebhookAttempt(Base):
    """One try of a delivery: what the endpoint answered, and how fast."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_delivery.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    #: The first bytes of the answer, or why there was none.
    excerpt: Mapped[str] = mapped_column(String(500), default="")
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    """Who changed what, when and from where, with the values before and after."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: Login at the time, kept even if the user is later removed; "cli" for commands.
    actor: Mapped[str] = mapped_column(String(254))
    #: e.g. "donation.record", "payment_method.update".
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()


# --- Processors ---------------------------------------------------------------------------

#: The inbound webhook connections (one endpoint each, see tracker/processors/).
PROCESSORS = ("stripe", "btcpay", "kofi", "github", "standard")
#: What became of an inbound event. `waiting`: a refund or dispute that arrived before its payment.
INBOUND_STATES = ("processed", "ignored", "needs_attention", "needs_rate", "pending_fetch", "waiting", "failed")


class InboundEvent(Base):
    """One event a processor sent, stored raw before it touches the ledger: the inbox.

    The unique (processor, event id) makes a redelivery or a concurrent duplicate one row; the
    donation's own key (source, external id) makes two events about one payment one gift.
    """

    __tablename__ = "inbound_event"
    __table_args__ = (
        CheckConstraint(_in("processor", PROCESSORS), name="processor_known"),
        CheckConstraint(_in("state", INBOUND_STATES), name="state_known"),
        UniqueConstraint("processor", "event_id"),
        Index("ix_inbound_event_processor_received", "processor", "received_at", "id"),
        Index("ix_inbound_event_state_next", "state", "next_attempt_at"),
        Index("ix_inbound_event_subject", "processor", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    processor: Mapped[str] = mapped_column(String(16))
    #: The processor's own id of the delivery or event (Stripe's evt_…, BTCPay's delivery id,
    #: Ko-fi's message_id, GitHub's X-GitHub-Delivery, the webhook-id header).
    event_id: Mapped[str] = mapped_column(String(200))
    #: The processor's event type ("checkout.session.completed", "InvoiceSettled", "Donation", …).
    event_type: Mapped[str] = mapped_column(String(100), default="")
    #: What the event is about, linking events to each other: a payment intent, an invoice,
    #: a sponsorship node id.
    subject: Mapped[str | None] = mapped_column(String(200))
    #: The body exactly as received, so it can be processed again.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Which secret the signature matched: "current" or "previous", or "token" (Ko-fi).
    signature: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    #: Why it is in this state, for the admin ("no USD→EUR rate", "unknown campaign 'x'").
    reason: Mapped[str] = mapped_column(Text, default="")
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donation.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the periodic follow-up should try again (pending_fetch, needs_rate).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    donation: Mapped[Donation | None] = relationship()


# --- Chains ---

#: What the tracker knows of an output seen on a chain: `seen` (no campaign to count it in yet),
#: `pending` (a pending donation, below the confirmation depth), `confirmed`, `removed` (the
#: transaction disappeared: replaced, double-spent or reorganised out; its donation refunded with
#: the reason) and `needs_rate` (no exchange rate recent enough yet: retried on later passes).
CHAIN_PAYMENT_STATES = ("seen", "pending", "confirmed", "removed", "needs_rate")


class ChainPayment(Base):
    """Money received on a chain by a watched address: one output (or Monero subaddress) of one transaction."""

    __tablename__ = "chain_payment"
    __table_args__ = (
        CheckConstraint(_in("state", CHAIN_PAYMENT_STATES), name="state_known"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("confirmations >= 0 AND output_index >= 0", name="counts_not_negative"),
        # The idempotency key: a pass run twice, or two passes at once, add one row.
        UniqueConstraint("coin", "txid", "output_index"),
        Index("ix_chain_payment_coin_state", "coin", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Coin code (BTC, BCH, LTC, DOGE, ETH, XMR).
    coin: Mapped[str] = mapped_column(String(8))
    txid: Mapped[str] = mapped_column(String(100))
    #: The output's index (vout); Monero: the subaddress's minor index; Ethereum: 0.
    output_index: Mapped[int] = mapped_column(Integer)
    #: The watched address that received it.
    address: Mapped[str] = mapped_column(String(300))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_method.id", ondelete="SET NULL"))
    #: Received amount in the coin's minor units (ETH: gwei).
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    confirmations: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="seen")
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donation.id", ondelete="SET NULL"))
    #: Why it is in its state (the rate that is missing, why it was taken back out).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The block's time once mined; until then the time the tracker first saw it.
    tx_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChainWatcher(Base):
    """How watching one coin goes: the last good answer, the last error, backoff, where the scan stands."""

    __tablename__ = "chain_watcher"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    coin: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: Failed passes in a row; the next poll waits longer after each (see chains.watcher.backoff).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Backend-specific position (Ethereum: the last block scanned).
    cursor: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DerivedAddress(Base):
    """A receiving address derived from a payment method's extended public key, handed out for one article (ref)."""

    __tablename__ = "derived_address"
    __table_args__ = (
        CheckConstraint("derivation_index >= 0", name="index_not_negative"),
        UniqueConstraint("payment_method_id", "derivation_index"),
        UniqueConstraint("coin", "address"),
        Index("ix_derived_address_method_ref", "payment_method_id", "ref", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_method_id: Mapped[int] = mapped_column(ForeignKey("payment_method.id", ondelete="CASCADE"))
    coin: Mapped[str] = mapped_column(String(8))
    #: i in m/purpose'/coin'/account'/0/i.
    derivation_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(300))
    #: The article it was handed out for; None: the support page without `?ref=`.
    ref: Mapped[str | None] = mapped_column(String(REF_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the watcher first saw money arrive: from then on the article gets the next address.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
