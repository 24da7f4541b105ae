"""The `tracker` command: set up, migrate, manage data and serve. Each command is one transaction."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from functools import update_wrapper
from gettext import ngettext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar
from urllib.parse import urlsplit

import click

from .chains.cli import payment_method, watch
from .errors import DomainError
from .roles import ROLES

# Only click, the standard library and tiny modules load at start-up, so `tracker --help` and
# `tracker <command> --help` answer at once: each command imports SQLAlchemy, the models,
# money (Babel) and the rest when it runs.
if TYPE_CHECKING:
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from .audit import Actor
    from .config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def cli_actor() -> Actor:
    """Who the audit log names for a change made from the command line."""
    from .audit import Actor

    return Actor.cli()


def database_error(exc: BaseException) -> DBAPIError | None:
    """`exc` when it is SQLAlchemy's DBAPIError, else None; SQLAlchemy is not imported to find out."""
    # An exception of a module that was never imported cannot be one of its classes.
    if "sqlalchemy.exc" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    return exc if isinstance(exc, DBAPIError) else None


def migration_error(exc: BaseException) -> CommandError | None:
    """`exc` when it is Alembic's CommandError (an unknown revision, say), else None; never imports Alembic."""
    if "alembic.util" not in sys.modules:
        return None
    from alembic.util import CommandError

    return exc if isinstance(exc, CommandError) else None


class Context:
    """Settings and database, built on first use so `--help` needs neither."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = Path(config_path) if config_path else None
        self._settings: Settings | None = None
        self._engine: Any = None

    @property
    def settings(self) -> Settings:
        from .config import ConfigError, load_settings

        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                fail(str(exc))
        return self._settings  # type: ignore[return-value]

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from .db import make_engine

            self._engine = make_engine(self.settings.database.url)
        return self._engine

    def close(self) -> None:
        """Close the command's database connections (pooled connections must not leak)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def session(self, *, write: bool = True) -> Any:
        """A transaction for this command; refuses to run on an unmigrated database."""
        from . import schema
        from .db import make_sessionmaker, session_scope

        if not schema.is_up_to_date(self.engine):
            fail("the database is not migrated to the latest schema: run `tracker db upgrade`")
        return session_scope(make_sessionmaker(self.engine), write=write)


def _rows(count: int) -> str:
    return ngettext("%d row", "%d rows", count) % count


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr and exit, without a traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def domain_errors(func: F) -> F:
    """Turn refused input into one clear line and exit status 1."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:  # money's refusals (MoneyError) included
            fail(exc.message)
        except Exception as exc:
            refused = database_error(exc)
            if refused is None:
                raise
            # Whatever slipped past validation: the transaction was rolled back, say why in one line.
            fail(f"the database refused the change: {str(refused.orig).splitlines()[0]}")
    return update_wrapper(wrapper, func)  # type: ignore[return-value]


pass_context = click.make_pass_decorator(Context)


class OneLineErrors(click.Group):
    """Every failure of every command is one line on stderr and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except DomainError as exc:
            fail(exc.message)
        except OSError as exc:
            fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")
        except Exception as exc:
            if (migrations := migration_error(exc)) is not None:  # an unknown migration revision, say
                fail(f"migrations: {migrations}")
            if (refused := database_error(exc)) is not None:
                orig = refused.orig
                fail(f"the database refused or did not answer: {str(orig).splitlines()[0] if orig else refused}")
            if os.environ.get("TRACKER_DEBUG"):
                raise
            fail(f"unexpected {type(exc).__name__}: {exc} (set TRACKER_DEBUG=1 to see where)")


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="TRACKER_CONFIG",
              help="Config file (default: ./config.toml, else instance/config.toml).")
@click.version_option(package_name="reader-support-tracker")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Reader-support tracker: donation goals, an exact ledger, support pages and widgets."""
    ctx.obj = Context(config_path)
    ctx.call_on_close(ctx.obj.close)


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing instance/config.toml.")
@pass_context
def init(ctx: Context, force: bool) -> None:
    """Create instance/ with a development config and secret, and migrate the database.

    Safe to run again: an existing config is kept (unless --force) and migrations that
    already ran are skipped.
    """
    from . import schema
    from .config import find_config_file

    target = Path("instance") / "config.toml"
    existing = find_config_file()
    if existing is None or (force and existing == target):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(DEVELOPMENT_CONFIG.format(secret=secrets.token_urlsafe(32)), encoding="utf-8")
        target.chmod(0o600)
        click.echo(f"wrote {target} (development settings, a new secret key)")
        ctx.config_path = target
    else:
        click.echo(f"using {existing}")
    schema.upgrade(ctx.engine)
    click.echo(f"database ready at revision {schema.current_revision(ctx.engine)}")


DEVELOPMENT_CONFIG = """\
# Written by `tracker init` for development. See config.example.toml for every key.
environment = "development"

[site]
name = "Example News"
url = "http://127.0.0.1:5000"

[security]
secret_key = "{secret}"
# Served over plain http on 127.0.0.1 in development; turn on behind TLS.
secure_cookies = false

[database]
url = "sqlite:///instance/tracker.db"
"""


@main.group()
def db() -> None:
    """Database schema: upgrade, current revision, consistency check."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_context
def db_upgrade(ctx: Context, revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from . import schema

    schema.upgrade(ctx.engine, revision)
    click.echo(f"database at revision {schema.current_revision(ctx.engine)}")


@db.command("current")
@pass_context
def db_current(ctx: Context) -> None:
    """Show the database's revision and the newest one available."""
    from . import schema

    click.echo(f"database: {schema.current_revision(ctx.engine) or 'empty'}; newest: {schema.head_revision()}")


@db.command("check")
@pass_context
def db_check(ctx: Context) -> None:
    """Check that the kept period totals agree with the ledger, campaign by campaign."""
    from .campaigns.operations import list_campaigns
    from .donations.ledger import verify_totals

    with ctx.session(write=False) as session:
        problems = [p for c in list_campaigns(session) for p in verify_totals(session, c)]
    for problem in problems:
        click.echo(problem)
    if problems:
        fail(ngettext("%d total disagrees with the ledger", "%d totals disagree with the ledger", len(problems))
             % len(problems))
    click.echo("every total agrees with the ledger")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
@pass_context
def db_revision(ctx: Context, message: str) -> None:
    """Write a new migration from model changes (for developers)."""
    from . import schema

    schema.revision(ctx.engine, message)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@main.command("create-admin")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="owner", show_default=True,
              help="What the account may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@pass_context
@domain_errors
def create_admin(ctx: Context, email: str, role: str, password_stdin: bool) -> None:
    """Create an account that can sign in to /admin (the password is asked for, never an argument)."""
    from .accounts.operations import create_user

    password = _read_password(password_stdin)
    with ctx.session() as session:
        user = create_user(session, email, password, role=role, actor=cli_actor())
        click.echo(f"created {user.role} {user.email}")


@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when any campaign exists.")
@pass_context
@domain_errors
def demo(ctx: Context, if_empty: bool) -> None:
    """Load the demo campaign: 5,000 USD a month, 40 donations totalling 2,160 USD."""
    from .demo import has_data, load_demo

    with ctx.session() as session:
        if has_data(session):
            if if_empty:
                click.echo("the database has data: demo not loaded")
                return
            fail("the database already has campaigns: demo data goes into an empty database")
        campaign = load_demo(session)
        click.echo(f"loaded campaign {campaign.slug!r} with its donations and payment methods")


def _parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    if not value.isascii():
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (digits 0-9 only)")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as 2026-11-25T10:00+01:00") from None
    if not 1900 <= moment.year <= 9998:
        raise click.BadParameter(f"{value!r} is not between the years 1900 and 9998")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@main.command("record-donation", context_settings={"ignore_unknown_options": True})
@click.argument("campaign")
@click.argument("amount")
@click.argument("currency")
@click.option("--external-id", help="Id in the source system; recording it twice adds one donation.")
@click.option("--source", type=click.Choice(["manual", "import", "api"]), default="manual", show_default=True)
@click.option("--pending", is_flag=True, help="Record as pending (not yet received).")
@click.option("--received-at", help="When it arrived (ISO 8601; default now; UTC if no offset).")
@click.option("--donor", help="Donor's name.")
@click.option("--message", help="Donor's message.")
@click.option("--public", is_flag=True, help="The donor agreed to appear on the donor wall.")
@pass_context
@domain_errors
def record_donation_command(ctx: Context, campaign: str, amount: str, currency: str, external_id: str | None,
                            source: str, pending: bool, received_at: str | None, donor: str | None,
                            message: str | None, public: bool) -> None:
    """Record AMOUNT CURRENCY for CAMPAIGN, e.g. `tracker record-donation demo 0.0015 BTC`."""
    from .campaigns.operations import get_campaign
    from .donations.ledger import record_donation
    from .money import Money

    # Read before any transaction opens: a negative amount is not a smaller donation but a
    # correction, which the ledger records otherwise (a refund, or an adjustment with a reason).
    money = Money.parse(amount, currency, allow_negative=True)
    if money.minor < 0:
        fail(f"a donation is a positive amount, not {amount} {money.currency}: nothing was recorded. To take a "
             "donation back, refund it on its page in the admin; to correct what a campaign has raised, use "
             "\"Set raised to…\" on the campaign's admin page (an adjustment, with your reason)")
    with ctx.session() as session:
        target = get_campaign(session, campaign)
        result = record_donation(
            session, target, money, actor=cli_actor(), source=source,
            external_id=external_id, status="pending" if pending else "confirmed",
            received_at=_parse_when(received_at), donor_name=donor, message=message, is_public=public)
        d = result.donation
        if not result.created:
            click.echo(f"already recorded as donation {d.id}: nothing added")
            return
        shown = Money(d.goal_amount_minor, d.goal_currency)
        rate = f" at {d.rate} {d.goal_currency}/{d.currency} ({d.rate_source})" if d.rate else ""
        click.echo(f"recorded donation {d.id}: {Money(d.amount_minor, d.currency)} = {shown}{rate}")


@main.group("campaign")
def campaign_group() -> None:
    """Campaigns (goals) from a script: add, list, edit, archive; audited as the CLI."""


def _milestones(values: tuple[str, ...], currency: str) -> list[Any]:
    """`--milestone 2500=Halfway` options as milestone inputs (the label may be empty: refused by the rules)."""
    from .campaigns.operations import MilestoneInput
    from .money import Money

    milestones = []
    for value in values:
        amount, separator, label = value.partition("=")
        if not separator or not label.strip():
            fail(f"--milestone {value!r}: write AMOUNT=LABEL, e.g. --milestone 2500=Halfway")
        milestones.append(MilestoneInput(Money.parse(amount.strip(), currency), label.strip()))
    return milestones


_CAMPAIGN_OPTIONS = [
    click.option("--title", help="What readers see (at most 200 characters)."),
    click.option("--description", help="A line under the title on the campaign page."),
    click.option("--period", type=click.Choice(["once", "monthly", "quarterly", "yearly"]),
                 help="Periodic goals start again each month, quarter or year."),
    click.option("--timezone", "zone", help="Periods and days start at midnight here (e.g. Europe/Berlin)."),
    click.option("--status", type=click.Choice(["draft", "active", "archived"]),
                 help="Draft campaigns are not public (readers get a 404)."),
    click.option("--milestone", "milestones", multiple=True, metavar="AMOUNT=LABEL",
                 help="A tick on the bar, in the goal currency; repeat for several (replaces them on edit)."),
    click.option("--translation", "translations", multiple=True, metavar="LOCALE:FIELD=TEXT",
                 help="The title or description in another language, e.g. --translation 'de:title=Das Licht "
                      "anlassen'; repeat for several; an empty TEXT removes one (readers of that language "
                      "see the default instead)."),
]


def _translations(ctx: Context, values: tuple[str, ...],
                  kept: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]] | None:
    """`--translation` values merged into the campaign's texts; None (keep them) when none is given."""
    if not values:
        return None
    site = ctx.settings.site
    others = [locale for locale in site.locales if locale != site.default_locale]
    merged = {locale: dict(texts) for locale, texts in (kept or {}).items()}
    for value in values:
        name, separator, text = value.partition("=")
        locale, colon, field = (part.strip() for part in name.partition(":"))
        if not separator or not colon or not locale or not field:
            fail(f"--translation {value!r}: write LOCALE:FIELD=TEXT, e.g. --translation 'de:title=Das Licht anlassen'")
        if locale == site.default_locale:
            fail(f"--translation {value!r}: {locale} is the site's default language: "
                 "use --title or --description for it")
        if locale not in others:
            # A text in a language the site does not offer would never be shown.
            fail(f"--translation {value!r}: {locale!r} is not one of the site's other languages "
                 f"({', '.join(others) or 'none'}; site.locales in the configuration)")
        merged.setdefault(locale, {})[field] = text
    return merged


def _campaign_options(func: F) -> F:
    for option in reversed(_CAMPAIGN_OPTIONS):
        func = option(func)
    return func


@campaign_group.command("add")
@click.argument("slug")
@click.argument("target")
@click.argument("currency")
@_campaign_options
@pass_context
@domain_errors
def campaign_add(ctx: Context, slug: str, target: str, currency: str, title: str | None, description: str | None,
                 period: str | None, zone: str | None, status: str | None, milestones: tuple[str, ...],
                 translations: tuple[str, ...]) -> None:
    """Add a campaign: `tracker campaign add lights 5000 EUR --title "Keep the lights on" --status active`."""
    from .campaigns.operations import CampaignInput, save_campaign
    from .money import Money

    money = Money.parse(target, currency.upper())
    data = CampaignInput(slug=slug, title=title or slug, target=money, period=period or "once",
                         timezone=zone or "UTC", description=description or "", status=status or "draft",
                         milestones=_milestones(milestones, money.currency),
                         translations=_translations(ctx, translations, None))
    with ctx.session() as session:
        campaign = save_campaign(session, data, actor=cli_actor())
        session.flush()
        click.echo(f"added campaign {campaign.slug} ({campaign.status}, goal {money.format()})")
        if campaign.status == "draft":
            click.echo("note: draft campaigns are not public; `tracker campaign edit "
                       f"{campaign.slug} --status active` shows it to readers", err=True)


@campaign_group.command("list")
@pass_context
def campaign_list(ctx: Context) -> None:
    """Every campaign: slug, status, goal, period, title."""
    from .campaigns.operations import list_campaigns
    from .money import Money

    with ctx.session(write=False) as session:
        for campaign in list_campaigns(session):
            goal = Money(campaign.target_minor, campaign.currency).format()
            click.echo(f"{campaign.slug}\t{campaign.status}\t{goal}\t{campaign.period}\t{campaign.title}")


@campaign_group.command("edit")
@click.argument("slug")
@click.option("--target", help="The new goal, in the campaign's currency (which cannot change).")
@_campaign_options
@pass_context
@domain_errors
def campaign_edit(ctx: Context, slug: str, target: str | None, title: str | None, description: str | None,
                  period: str | None, zone: str | None, status: str | None, milestones: tuple[str, ...],
                  translations: tuple[str, ...]) -> None:
    """Change what the options name; everything else stays as it is."""
    from .campaigns.operations import CampaignInput, MilestoneInput, get_campaign, save_campaign
    from .money import Money

    with ctx.session() as session:
        campaign = get_campaign(session, slug)
        currency = campaign.currency
        kept = [MilestoneInput(Money(m.amount_minor, currency), m.label) for m in campaign.milestones]
        data = CampaignInput(
            slug=campaign.slug, title=campaign.title if title is None else title,
            target=Money.parse(target, currency) if target else Money(campaign.target_minor, currency),
            period=period or campaign.period, timezone=zone or campaign.timezone,
            description=campaign.description if description is None else description,
            starts_at=campaign.starts_at, ends_at=campaign.ends_at, status=status or campaign.status,
            milestones=_milestones(milestones, currency) if milestones else kept, display=campaign.display,
            translations=_translations(ctx, translations, campaign.translations))
        save_campaign(session, data, actor=cli_actor(), campaign=campaign)
        click.echo(f"changed campaign {campaign.slug}")


@campaign_group.command("archive")
@click.argument("slug")
@pass_context
@domain_errors
def campaign_archive(ctx: Context, slug: str) -> None:
    """Archive a campaign: its page stays readable; it leaves the support page and the widgets."""
    from .campaigns.operations import get_campaign, set_status

    with ctx.session() as session:
        set_status(session, get_campaign(session, slug), "archived", actor=cli_actor())
        click.echo(f"archived campaign {slug}")


@main.command("rate")
@click.argument("base")
@click.argument("quote")
@click.argument("rate")
@click.option("--as-of", help="When the rate applied (ISO 8601; default now).")
@click.option("--source", default="manual", show_default=True, help="Where the figure comes from.")
@pass_context
@domain_errors
def rate_command(ctx: Context, base: str, quote: str, rate: str, as_of: str | None, source: str) -> None:
    """Store an exchange rate: 1 BASE = RATE QUOTE, e.g. `tracker rate BTC USD 63250.12`."""
    from .donations.rates import record_rate
    from .models import utcnow

    with ctx.session() as session:
        entry = record_rate(session, base, quote, rate, _parse_when(as_of) or utcnow(), source, cli_actor())
        click.echo(f"stored 1 {entry.base} = {entry.rate} {entry.quote} as of {entry.as_of:%Y-%m-%d %H:%M} UTC")


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True,
              help="json: a complete backup; csv: the donations.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
@click.option("--bom", is_flag=True, help="CSV: start with a UTF-8 byte order mark, for Excel and LibreOffice.")
@pass_context
def export_command(ctx: Context, fmt: str, output: Any, bom: bool) -> None:
    """Export the data; `tracker import` reads it back without duplicating anything."""
    from sqlalchemy import func, select

    from .donations.export import export_csv, export_json
    from .models import Donation

    with ctx.session(write=False) as session:
        total = session.scalar(select(func.count()).select_from(Donation)) or 0
        with click.progressbar(length=total, label="exporting", file=sys.stderr) as bar:
            if fmt == "json":
                count = export_json(session, output, progress=bar.update)
            else:
                count = export_csv(session, output, progress=bar.update, bom=bom)
    click.echo(ngettext("exported %d donation", "exported %d donations", count) % count, err=True)


def read_text_file(path: str, encoding: str) -> str:
    """A file's text: UTF-8 (with or without BOM) by default; a file in another encoding is named, not guessed."""
    data = Path(path).read_bytes() if path != "-" else sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        hint = (" It looks like a Windows (Excel) file: run again with --encoding cp1252."
                if encoding == "utf-8" else "")
        fail(f"{path} is not {encoding} text (byte 0x{data[exc.start]:02x} at position {exc.start}).{hint}")
        raise  # not reached: fail() exits


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["auto", "json", "csv"]), default="auto", show_default=True)
@click.option("--encoding", type=click.Choice(["utf-8", "cp1252", "latin-1"]), default="utf-8", show_default=True,
              help="The file's encoding (UTF-8 with or without BOM by default; cp1252 for Excel on Windows).")
@click.option("--campaign", default="", help="Campaign slug for a processor's export, which names none itself.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Read any other CSV: which column is the id, amount, currency, date, name, message, status, "
                   "campaign or ref (repeat it).")
@click.option("--source", default="import", show_default=True,
              help="With --map: whose gifts these are (kofi, givewp, paypal, …), the same as that processor's "
                   "webhook so a gift seen both ways is one donation.")
@pass_context
@domain_errors
def import_command(ctx: Context, file: str, fmt: str, encoding: str, campaign: str, maps: tuple[str, ...],
                   source: str) -> None:
    """Import a JSON backup, a donations CSV, or a processor's export. Rows already present are skipped.

    Stripe's payments export, PayPal's activity download and Open Collective's transactions are
    recognised by their header row (give --campaign); any other CSV is read with --map.
    All or nothing: if any row is refused, every problem is listed with its line and
    nothing is saved.
    """
    from .donations.imports import import_json, import_rows, read_csv_rows
    from .processors.exports import parse_map, translate_export

    if fmt == "auto":
        fmt = "json" if file.endswith(".json") else "csv"
    text = read_text_file(file, encoding)
    with ctx.session() as session:
        if fmt == "json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                fail(f"not valid JSON: {exc}")
            total = len(data.get("donations", [])) if isinstance(data, dict) else 0
            with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
                report = import_json(session, data, actor=cli_actor(), progress=bar.update)
        else:
            translated = translate_export(text, campaign=campaign, mapping=parse_map(maps), source=source)
            if translated is not None:
                for line, message in translated.errors[:50]:
                    click.echo(f"line {line}: {message}", err=True)
                if translated.errors:
                    fail(_rows(len(translated.errors)) + f" of the {translated.format} refused: nothing was imported")
                click.echo(f"read as {translated.format}: "
                           + ngettext("%d gift", "%d gifts", len(translated.rows)) % len(translated.rows) + "; "
                           + ngettext("%d row is not a gift", "%d rows are not gifts", len(translated.skipped))
                           % len(translated.skipped) + " (fees, payouts, failed payments)",
                           err=True)
                rows = translated.rows
            else:
                try:
                    # newline="": line ends inside quoted cells (CRLF in a message) stay as they were.
                    rows = list(read_csv_rows(io.StringIO(text, newline="")))
                except csv.Error as exc:
                    fail(f"the CSV cannot be read: {exc}")
            with click.progressbar(length=len(rows), label="importing", file=sys.stderr) as bar:
                report = import_rows(session, rows, actor=cli_actor(), progress=bar.update)
        if not report.ok:
            session.rollback()
            for line, message in report.errors[:50]:
                click.echo(f"line {line}: {message}", err=True)
            fail(_rows(len(report.errors)) + " refused: nothing was imported")
        click.echo(ngettext("imported %d donation", "imported %d donations", report.created) % report.created
                   + f", skipped {report.skipped} already present")
        if report.hidden_methods:
            click.echo(f"restored {len(report.hidden_methods)} payment method(s) hidden from readers: check each "
                       "address against your wallet, then show it under Payment methods in the admin")


class WorkerCommand(click.Command):
    """`tracker worker --help` says which queue storage and how many threads this config gives."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        from .config import ConfigError, load_settings
        from .jobs import storage_description

        try:
            found = ctx.find_object(Context)
            config = load_settings(found.config_path if found is not None else None)
        except ConfigError as exc:
            formatter.write_paragraph()
            formatter.write_text(f"(The config could not be read: {exc})")
            return
        formatter.write_paragraph()
        formatter.write_text(f"With this config: queue storage {storage_description(config)}, "
                             f"{config.queue.workers} worker thread(s), sweep every {config.queue.sweep_minutes} "
                             "minute(s).")


@main.command(cls=WorkerCommand)
@click.option("--workers", type=int, help="Worker threads (default: [queue] workers).")
@pass_context
def worker(ctx: Context, workers: int | None) -> None:
    """Run the background worker: webhook deliveries, e-mail, payment follow-ups, chain polls, rates.

    A Huey consumer. Its queue lives in SQLite (instance/queue.db) unless [redis] url is set,
    then in Redis, so workers on several hosts share it. Each periodic job runs once per
    deployment however many workers run (a lease row in the database). Ctrl+C stops it after
    the jobs in hand.
    """
    from sqlalchemy.exc import DBAPIError

    from . import schema
    from .db import make_sessionmaker
    from .jobs import Queue, storage_description

    config = ctx.settings
    # A worker started while the database is away (a restart of both) waits for it, saying so
    # once, instead of exiting: jobs are only ever late, never lost.
    waited = 0.0
    while True:
        try:
            current = schema.is_up_to_date(ctx.engine)
            break
        except DBAPIError as exc:
            if waited == 0:
                click.echo(f"worker: waiting for the database ({str(exc.orig).splitlines()[0] if exc.orig else exc})",
                           err=True)
            time.sleep(2)
            waited += 2
    if not current:
        fail("the database is not migrated to the latest schema: run `tracker db upgrade` (or `tracker init`)")
    threads = workers or config.queue.workers
    if threads < 1:
        fail("--workers must be at least 1")
    queue = Queue(config, make_sessionmaker(ctx.engine))
    click.echo(f"worker: queue in {storage_description(config)}, {threads} thread(s) (Ctrl+C to stop)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(name)s: %(message)s")
    consumer = queue.huey.create_consumer(workers=threads, worker_type="thread", periodic=True,
                                          check_worker_health=True)
    consumer.run()


def start_worker(ctx: Context) -> subprocess.Popen[bytes]:
    """`tracker worker` beside the web server (make run), with the same config."""
    command = [sys.executable, "-m", "tracker"]
    if ctx.config_path:
        command += ["--config", str(ctx.config_path)]
    return subprocess.Popen([*command, "worker"])


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@main.command()
@click.option("--host", help="Address to listen on (default from config: 127.0.0.1).")
@click.option("--port", type=int, help="Port (default from config: 5000).")
@click.option("--workers", type=int, help="gunicorn worker processes (default from config).")
@click.option("--dev", is_flag=True, help="Use Flask's development server with the reloader instead of gunicorn.")
@click.option("--with-worker", is_flag=True, help="Also run `tracker worker` (Ctrl+C stops both); make run does.")
@pass_context
def serve(ctx: Context, host: str | None, port: int | None, workers: int | None, dev: bool,
          with_worker: bool) -> None:
    """Serve the app (gunicorn; use a reverse proxy for TLS in production)."""
    from . import schema

    config = ctx.settings
    if not schema.is_up_to_date(ctx.engine):
        fail("the database is not migrated to the latest schema: run `tracker db upgrade` (or `tracker init`)")
    ctx.engine.dispose()  # each worker opens its own connections
    host, port = host or config.server.host, port or config.server.port
    busy = port_in_use(host, port)
    if busy:
        fail(f"cannot serve on {host}:{port}: {busy}; stop what is using it or choose another with --port")
    warning = site_url_warning(config.site.url, host, port, development=config.is_development)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"serving {config.site.name} on http://{host}:{port}/ (Ctrl+C to stop)")
    background = start_worker(ctx) if with_worker else None
    try:
        if dev:
            from . import create_app

            create_app(config).run(host=host, port=port, debug=config.is_development, use_reloader=True)
            return
        run_gunicorn(config, host, port, workers or config.server.workers)
    finally:
        if background is not None:
            stop_worker(background)


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on ("the port is in use"), or None when it can."""
    # Checked before gunicorn starts: gunicorn itself retries for seconds, then dies with a
    # traceback-like log after "serving…" was already printed.
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"the address {host!r} cannot be resolved ({exc.strerror})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # The same option gunicorn sets, so a port in TIME_WAIT is not taken for busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "the port is already in use"
            if exc.errno == errno.EACCES:
                return "permission denied (ports below 1024 need privileges)"
            return exc.strerror or str(exc)
    return None


#: Host names that only this machine reaches.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})


def site_url_warning(site_url: str, host: str, port: int, *, development: bool) -> str | None:
    """A warning when, in production, `site.url` (every outward link) cannot be where readers find this server."""
    # In development links follow the address served (web/urls.py). In production site.url
    # is the public address: behind a proxy it rightly differs from the bind address, but a
    # loopback site.url is reachable by nobody else, and one on another port leads nowhere.
    if development:
        return None
    parts = urlsplit(site_url)
    if (parts.hostname or "") not in LOOPBACK:
        return None
    site_port = parts.port or (443 if parts.scheme == "https" else 80)
    if site_port != port:
        return (f"site.url is {site_url} but this serves port {port}: widget buttons, embed codes, oEmbed and "
                f"the API's links lead nowhere; set site.url to the address readers use")
    return (f"site.url is {site_url}, which only this machine reaches: set site.url to the public address "
            f"readers use (embed codes and links are built from it)")


def run_gunicorn(config: Settings, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class TrackerServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # Threads, not one request per process: a long streamed export (a million rows)
            # then never blocks the worker's heartbeat, and slow clients hold a thread, not a
            # whole worker.
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")
            self.cfg.set("forwarded_allow_ips", "127.0.0.1" if config.security.trusted_proxies else "")
            # Every statement times out well before this (db.STATEMENT_TIMEOUT): a worker is
            # killed only when something other than the database hangs.
            self.cfg.set("timeout", 30)
            # Longer than a proxy's idle upstream connections (nginx: keepalive_timeout 4s in
            # docs/deployment.md), so the proxy never reuses one this server is closing.
            self.cfg.set("keepalive", 5)
            # Gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl):
            # two trackers of one user would share it. Ours lives in this instance's folder.
            self.cfg.set("control_socket", str(Path(config.instance_path).resolve() / "gunicorn.ctl"))
            self.cfg.set("child_exit", _metrics_child_exit)

        def load(self) -> Any:
            # Built in each worker after the fork, so no connection is shared between processes.
            from . import create_app

            return create_app(config)

    # Every worker process counts its own requests; /metrics adds up the files they keep here.
    metrics = Path(config.instance_path).resolve() / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    TrackerServer().run()


def _metrics_child_exit(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


main.add_command(watch)
main.add_command(payment_method)


if __name__ == "__main__":
    main(prog_name="tracker")
