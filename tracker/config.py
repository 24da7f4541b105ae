"""Settings: a TOML file plus environment overrides, parsed into frozen, typed dataclasses."""

from __future__ import annotations

import collections.abc
import dataclasses
import os
import secrets
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Environment variables that override a key, so secrets need not live in a file.
ENV_OVERRIDES = {
    "TRACKER_SECRET_KEY": ("security", "secret_key"),
    "TRACKER_DATABASE_URL": ("database", "url"),
    "TRACKER_REDIS_URL": ("redis", "url"),
    "TRACKER_ENVIRONMENT": (None, "environment"),
    "TRACKER_SMTP_PASSWORD": ("smtp", "password"),
    "TRACKER_METRICS_TOKEN": ("metrics", "token"),
    "TRACKER_STRIPE_WEBHOOK_SECRET": ("processors.stripe", "webhook_secret"),
    "TRACKER_BTCPAY_WEBHOOK_SECRET": ("processors.btcpay", "webhook_secret"),
    "TRACKER_BTCPAY_API_KEY": ("processors.btcpay", "api_key"),
    "TRACKER_KOFI_VERIFICATION_TOKEN": ("processors.kofi", "verification_token"),
    "TRACKER_GITHUB_WEBHOOK_SECRET": ("processors.github_sponsors", "webhook_secret"),
    "TRACKER_STANDARD_WEBHOOK_SECRET": ("processors.standard", "webhook_secret"),
    "TRACKER_ETH_URL": ("chains.eth", "url"),
    "TRACKER_XMR_URL": ("chains.xmr", "url"),
}

ENVIRONMENTS = ("development", "production", "testing")
#: The backends each coin can be watched with (docs/chains.md).
CHAIN_BACKENDS = {"btc": ("esplora", "blockbook"), "ltc": ("esplora", "blockbook"), "bch": ("blockbook",),
                  "doge": ("blockbook",), "eth": ("jsonrpc",), "xmr": ("wallet-rpc",)}


class ConfigError(Exception):
    """A configuration problem, told in one line that names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


@dataclass(frozen=True)
class SiteSettings:
    #: Shown as the page title and in the widget's "Support us" context.
    name: str = "Reader Support"
    #: Public base URL of this tracker, used in embed codes and oEmbed answers.
    url: str = "http://127.0.0.1:5000"
    #: What the support pays for, shown on the support page.
    support_text: str = "Your support keeps our reporting independent and free to read."
    #: `support_text` in other locales, {"de": "…"}; a locale without one shows `support_text`.
    support_texts: Mapping[str, str] = field(default_factory=lambda: types.MappingProxyType({}))
    #: Locale used when the reader's browser asks for none we have.
    default_locale: str = "en"
    #: Locales the interface is offered in.
    locales: tuple[str, ...] = ("en", "de")
    #: Amounts offered as one-click presets on the support page, in the goal currency.
    amount_presets: tuple[str, ...] = ("5", "10", "25")
    #: The footer of readers' pages: a contact (an e-mail address or a URL), shown beside the name.
    contact: str = ""
    #: The footer's privacy line; empty: the translated "This page sets no cookies…" line.
    privacy_note: str = ""
    #: Show the footer at all.
    show_footer: bool = True


@dataclass(frozen=True)
class SecuritySettings:
    #: Signs sessions and CSRF tokens. Required outside development.
    secret_key: str = ""
    #: Send the session cookie only over HTTPS. On by default; `tracker init` turns it off for
    #: development on http://127.0.0.1.
    secure_cookies: bool = True
    #: Hours an admin stays signed in on one browser before signing in again.
    session_hours: int = 12
    #: Login attempts allowed per account and per client address.
    login_rate_limit: str = "10 per minute"
    #: Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
    trusted_proxies: int = 0


@dataclass(frozen=True)
class DatabaseSettings:
    #: SQLAlchemy URL. SQLite file by default; postgresql+psycopg://… in production.
    url: str = "sqlite:///instance/tracker.db"
    #: Log every SQL statement (development aid).
    echo: bool = False


@dataclass(frozen=True)
class RedisSettings:
    #: Redis URL for shared rate limits and caches; empty keeps them in process memory.
    url: str = ""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 5000
    #: gunicorn worker processes for `tracker serve`.
    workers: int = 2


@dataclass(frozen=True)
class WidgetSettings:
    #: Most seconds a widget may show old figures; browsers get max-age = this - process_cache_seconds.
    max_age: int = 60
    #: Seconds a stale widget may be served while it is refreshed.
    stale_while_revalidate: int = 300
    #: CSP frame-ancestors for the iframe widget: which sites may frame it.
    frame_ancestors: str = "*"
    #: Seconds each worker process may reuse a whole widget/API answer without the database
    #: (0: never). Browsers get max-age minus this, so figures are never older than max_age.
    process_cache_seconds: int = 1
    #: Renderings one client address may cause per minute that no cache held (new options,
    #: new QR amounts); requests past it get 429. Cached answers and 304s never count.
    render_budget_per_minute: int = 60


@dataclass(frozen=True)
class QueueSettings:
    #: Consumer threads a `tracker worker` runs.
    workers: int = 2
    #: Minutes between the sweeps that pick up due work (webhook deliveries, retries of work a
    #: killed worker left); jobs are also queued at once when a request commits.
    sweep_minutes: int = 1


@dataclass(frozen=True)
class SmtpSettings:
    #: Mail server for messages to the publisher; empty sends no e-mail.
    host: str = ""
    port: int = 587
    #: "starttls", "tls" (implicit, port 465) or "none" (a local relay only).
    security: str = "starttls"
    username: str = ""
    #: Prefer TRACKER_SMTP_PASSWORD.
    password: str = ""
    #: The From address of the tracker's messages.
    sender: str = ""
    #: Who is told: these addresses, else every active owner.
    recipients: tuple[str, ...] = ()
    #: One message a day listing new donations, instead of one per donation.
    daily_digest: bool = False


@dataclass(frozen=True)
class WebhookSettings:
    #: Seconds an outgoing delivery may take.
    timeout_seconds: int = 10
    #: An endpoint failing for this long is switched off and the owners are told.
    give_up_hours: int = 24
    #: Deliver to private, loopback and link-local addresses (tests, an intranet); off by default.
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class MetricsSettings:
    #: Bearer token for GET /metrics; empty turns /metrics off. Prefer TRACKER_METRICS_TOKEN.
    token: str = ""


@dataclass(frozen=True)
class ProcessorSettings:
    """One payment processor's inbound webhook connection."""

    #: The secret the processor signs with (Stripe's whsec_…, BTCPay's, GitHub's, Standard Webhooks' whsec_…).
    webhook_secret: str = ""
    #: A second secret accepted during a rotation (Stripe, Standard Webhooks).
    previous_secret: str = ""
    #: Campaign slug for gifts whose metadata names none.
    default_campaign: str = ""


@dataclass(frozen=True)
class BtcpaySettings(ProcessorSettings):
    #: The BTCPay Server's base URL, for the Greenfield API follow-up calls.
    url: str = ""
    #: Greenfield API key with the "view invoices" permission. Prefer TRACKER_BTCPAY_API_KEY.
    api_key: str = ""
    store_id: str = ""


@dataclass(frozen=True)
class KofiSettings(ProcessorSettings):
    #: Ko-fi's verification token (sent inside each payload). Prefer TRACKER_KOFI_VERIFICATION_TOKEN.
    verification_token: str = ""
    #: Count shop orders and commissions as gifts too.
    count_shop_orders: bool = False


@dataclass(frozen=True)
class ProcessorsSettings:
    stripe: ProcessorSettings = field(default_factory=ProcessorSettings)
    btcpay: BtcpaySettings = field(default_factory=BtcpaySettings)
    kofi: KofiSettings = field(default_factory=KofiSettings)
    github_sponsors: ProcessorSettings = field(default_factory=ProcessorSettings)
    standard: ProcessorSettings = field(default_factory=ProcessorSettings)


@dataclass(frozen=True)
class ChainSettings:
    """How one coin's addresses are watched; an empty backend watches nothing."""

    #: "esplora", "blockbook", "jsonrpc" (ETH) or "wallet-rpc" (XMR); empty: not watched.
    backend: str = ""
    #: The backend's base URL (an Esplora or Blockbook server, a node, monero-wallet-rpc).
    url: str = ""
    #: Confirmations at which a gift counts as raised (0: the coin's default, see docs/chains.md).
    confirmations: int = 0
    #: Seconds between polls.
    poll_seconds: int = 60


@dataclass(frozen=True)
class ChainsSettings:
    btc: ChainSettings = field(default_factory=ChainSettings)
    bch: ChainSettings = field(default_factory=ChainSettings)
    ltc: ChainSettings = field(default_factory=ChainSettings)
    doge: ChainSettings = field(default_factory=ChainSettings)
    eth: ChainSettings = field(default_factory=ChainSettings)
    xmr: ChainSettings = field(default_factory=ChainSettings)
    #: Fresh addresses a payment method with an extended key may hand out before one is paid.
    gap_limit: int = 20


@dataclass(frozen=True)
class RatesSettings:
    #: Public source of coin prices: "kraken", "coinbase" or "" (rates are entered by hand).
    coins: str = ""
    #: Source of fiat reference rates: "ecb" or "".
    fiat: str = ""
    #: Minutes between refreshes.
    refresh_minutes: int = 15
    #: A gift whose newest rate is older than this waits in the inbox as "needs a rate".
    max_age_hours: int = 24


@dataclass(frozen=True)
class Settings:
    """Every setting of one tracker instance."""

    #: development, production or testing.
    environment: str = "production"
    #: Folder for the SQLite database, the development secret and uploads.
    instance_path: str = "instance"
    site: SiteSettings = field(default_factory=SiteSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    widget: WidgetSettings = field(default_factory=WidgetSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    processors: ProcessorsSettings = field(default_factory=ProcessorsSettings)
    chains: ChainsSettings = field(default_factory=ChainsSettings)
    rates: RatesSettings = field(default_factory=RatesSettings)
    #: Where the settings came from, for messages; not a key.
    source: str = field(default="defaults", compare=False)

    @property
    def is_development(self) -> bool:
        return self.environment in ("development", "testing")


def find_config_file(env: Mapping[str, str] = os.environ, cwd: Path | None = None) -> Path | None:
    """TRACKER_CONFIG, else ./config.toml, else instance/config.toml, else None."""
    cwd = cwd or Path.cwd()
    if env.get("TRACKER_CONFIG"):
        return Path(env["TRACKER_CONFIG"])
    for candidate in (cwd / "config.toml", cwd / "instance" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the config file (found as `find_config_file` says), apply env and overrides, validate."""
    path = path if path is not None else find_config_file(env)
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(source, "-", "the file does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(source, "-", f"not valid TOML ({exc})") from None
    else:
        # No file at all is a newcomer's first run: develop against instance/ defaults.
        data["environment"] = "development"

    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            target = data
            for part in (section.split(".") if section else ()):
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    raise ConfigError(source, section or key, "must be a table")
            target[key] = env[var]
    for dotted, value in (overrides or {}).items():
        *sections, key = dotted.split(".")
        target = data
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = value

    settings = _build(Settings, data, source, prefix="")
    settings = dataclasses.replace(settings, source=source)
    if settings.environment == "development" and "secure_cookies" not in (data.get("security") or {}):
        # Development is plain http on 127.0.0.1: HTTPS-only cookies would never come back.
        settings = dataclasses.replace(settings, security=dataclasses.replace(settings.security, secure_cookies=False))
    return _validate(settings)


def _build(cls: type, data: Any, source: str, prefix: str) -> Any:
    """Turn a TOML table into dataclass `cls`, refusing unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(source, prefix.rstrip(".") or "-", "must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            raise ConfigError(source, prefix + key, "unknown key (see config.example.toml)")
    values = {}
    for name, value in data.items():
        values[name] = _coerce(hints[name], value, source, prefix + name)
    return cls(**values)


def _coerce(hint: Any, value: Any, source: str, key: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, source, key + ".")
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(source, key, f"must be a list, not {_toml_type(value)}")
        return tuple(_coerce(item_type, item, source, key) for item in value)
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported setting type for {key}")
    if origin is collections.abc.Mapping:
        (key_type, item_type) = typing.get_args(hint)
        if not isinstance(value, dict):
            raise ConfigError(source, key, f"must be a table, not {_toml_type(value)}")
        return types.MappingProxyType({_coerce(key_type, name, source, key): _coerce(item_type, item, source,
                                                                                    f"{key}.{name}")
                                       for name, item in value.items()})
    if hint is bool:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"  # from the environment
        if not isinstance(value, bool):
            raise ConfigError(source, key, f"must be true or false, not {_toml_type(value)}")
        return value
    if hint is int:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(source, key, f"must be a whole number, not {_toml_type(value)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(source, key, f"must be a string, not {_toml_type(value)}")
        return value
    raise TypeError(f"unsupported setting type {hint!r} for {key}")


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _validate(settings: Settings) -> Settings:
    src = settings.source
    if settings.environment not in ENVIRONMENTS:
        raise ConfigError(src, "environment", f"must be one of {', '.join(ENVIRONMENTS)}")
    try:
        url = make_url(settings.database.url)
    except ArgumentError:
        raise ConfigError(src, "database.url", f"not a database URL: {settings.database.url!r}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(src, "database.url", "only sqlite:// and postgresql+psycopg:// are supported")
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        raise ConfigError(src, "database.url", "use the psycopg 3 driver: postgresql+psycopg://…")
    if settings.redis.url and not settings.redis.url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(src, "redis.url", "must start with redis://, rediss:// or unix://")
    if not settings.site.url.startswith(("http://", "https://")):
        raise ConfigError(src, "site.url", "must start with http:// or https://")
    if settings.site.default_locale not in settings.site.locales:
        raise ConfigError(src, "site.default_locale", "must be one of site.locales")
    for locale in settings.site.support_texts:
        if locale not in settings.site.locales or locale == settings.site.default_locale:
            raise ConfigError(src, f"site.support_texts.{locale}",
                              "must be one of site.locales other than site.default_locale (that one is support_text)")
    if not 1 <= settings.server.port <= 65535:
        raise ConfigError(src, "server.port", "must be between 1 and 65535")
    if not 1 <= settings.security.session_hours <= 24 * 30:
        raise ConfigError(src, "security.session_hours", "must be between 1 and 720")
    if settings.server.workers < 1:
        raise ConfigError(src, "server.workers", "must be at least 1")
    if settings.widget.max_age < 0 or settings.widget.stale_while_revalidate < 0:
        raise ConfigError(src, "widget.max_age", "cache times cannot be negative")
    if settings.widget.render_budget_per_minute < 1:
        raise ConfigError(src, "widget.render_budget_per_minute", "must be at least 1")
    if settings.widget.process_cache_seconds < 0:
        raise ConfigError(src, "widget.process_cache_seconds", "cannot be negative")
    if 0 < settings.widget.max_age <= settings.widget.process_cache_seconds:
        # The browsers' share is max_age minus this: at max_age or more nothing would be left.
        raise ConfigError(src, "widget.process_cache_seconds", "must be less than widget.max_age")
    if settings.queue.workers < 1 or settings.queue.sweep_minutes < 1:
        raise ConfigError(src, "queue", "workers and sweep_minutes must be at least 1")
    if settings.smtp.security not in ("starttls", "tls", "none"):
        raise ConfigError(src, "smtp.security", "must be starttls, tls or none")
    if settings.smtp.host and not settings.smtp.sender:
        raise ConfigError(src, "smtp.sender", "missing: the From address of the tracker's messages")
    for coin, backends in CHAIN_BACKENDS.items():
        chain = getattr(settings.chains, coin)
        if chain.backend and chain.backend not in backends:
            raise ConfigError(src, f"chains.{coin}.backend", f"must be one of {', '.join(backends)} (or empty)")
        if chain.backend and not chain.url.startswith(("http://", "https://")):
            raise ConfigError(src, f"chains.{coin}.url", "the backend's http:// or https:// address is missing")
        if chain.confirmations < 0 or chain.poll_seconds < 5:
            raise ConfigError(src, f"chains.{coin}", "confirmations cannot be negative; poll_seconds is at least 5")
    if settings.rates.coins not in ("", "kraken", "coinbase") or settings.rates.fiat not in ("", "ecb"):
        raise ConfigError(src, "rates", "coins is kraken, coinbase or empty; fiat is ecb or empty")
    if settings.webhooks.timeout_seconds < 1 or settings.webhooks.give_up_hours < 1:
        raise ConfigError(src, "webhooks", "timeout_seconds and give_up_hours must be at least 1")
    if not settings.security.secret_key:
        if not settings.is_development:
            raise ConfigError(src, "security.secret_key",
                              "missing: set it in the file or in TRACKER_SECRET_KEY")
        settings = dataclasses.replace(
            settings, security=dataclasses.replace(
                settings.security, secret_key=development_secret(Path(settings.instance_path))))
    elif len(settings.security.secret_key) < 16:
        raise ConfigError(src, "security.secret_key", "too short: use at least 16 random characters")
    return settings


def development_secret(instance: Path) -> str:
    """The development secret kept in instance/secret_key, created once."""
    path = instance / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
