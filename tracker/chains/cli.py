"""`tracker watch` and `tracker payment-method add`: the chain watchers and watched addresses from a shell.

Registered on the `tracker` group by tracker/cli.py; the group's context (settings, database)
is `click.get_current_context().obj`, and its error handling turns every refusal into one line.
"""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import click

# The watchers, payments and models load when a command runs, not when `tracker --help` lists it.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..config import Settings
    from .watcher import PassResult


class CommandContext(Protocol):
    """What the `tracker` group's context offers (tracker.cli.Context)."""

    @property
    def settings(self) -> Settings: ...

    def session(self, *, write: bool = True) -> AbstractContextManager[Session]: ...


def _context() -> CommandContext:
    obj: CommandContext = click.get_current_context().obj
    return obj


def run_pass(context: CommandContext, coin: str) -> PassResult:
    """One pass over one coin: ask the backend inside a reading transaction, then write in a short one.

    The network is never awaited while SQLite's write lock is held.
    """
    from .alerts import failure_message, send
    from .backend import BackendError
    from .watcher import apply, observe, record_failure

    settings = context.settings
    try:
        with context.session(write=False) as session:
            observation = observe(session, settings, coin)
    except BackendError as exc:
        with context.session(write=True) as session:
            result = record_failure(session, settings, coin, str(exc))
            message = failure_message(session, settings, result)
        if message is not None:  # after the commit: the failure is on record whatever the mail does
            send(settings, message)
        return result
    with context.session(write=True) as session:
        return apply(session, settings, coin, observation)


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    minutes = int((now - when).total_seconds() // 60)
    return "just now" if minutes < 1 else f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"


@click.command("watch")
@click.option("--once", is_flag=True, help="Run one pass over every watched coin, print a line per coin, and exit "
                                           "(non-zero if any failed).")
@click.option("--status", "show_status", is_flag=True, help="Print each watcher's last good answer and last error.")
def watch(once: bool, show_status: bool) -> None:
    """Watch the payment methods' addresses on chain: pending at first sight, raised once confirmed."""
    from ..models import ChainWatcher, utcnow
    from .watcher import due_coins, watched_coins

    context = _context()
    coins = watched_coins(context.settings)
    if not coins:
        click.echo("error: no coin is watched: set backend and url under [chains.<coin>] (see docs/chains.md)",
                   err=True)
        sys.exit(1)
    if show_status:
        with context.session(write=False) as session:
            now = utcnow()
            for coin in coins:
                status = session.get(ChainWatcher, coin)
                good = _ago(status.last_success_at if status else None, now)
                error = f"; last error {_ago(status.last_error_at, now)}: {status.last_error}" if (
                    status and status.last_error) else ""
                click.echo(f"{coin} watcher: last good answer {good}{error}")
        return
    if once:
        results = [run_pass(context, coin) for coin in coins]
        for result in results:
            click.echo(result.summary())
        if not all(result.ok for result in results):
            sys.exit(1)
        return
    click.echo(f"watching {', '.join(coins)} (Ctrl-C to stop)")
    try:
        while True:
            with context.session(write=False) as session:
                due = due_coins(session, context.settings)
            for coin in due:
                click.echo(f"{utcnow():%Y-%m-%d %H:%M:%S} {run_pass(context, coin).summary()}")
            time.sleep(5)
    except KeyboardInterrupt:
        click.echo("stopped")


@click.group("payment-method")
def payment_method() -> None:
    """Ways to give that readers see (and the watchers watch)."""


@payment_method.command("add")
@click.argument("coin")
@click.argument("address", metavar="ADDRESS-OR-XPUB")
@click.option("--label", default="", help="What readers see beside it (at most 60 characters).")
@click.option("--network", default="mainnet", show_default=True, help="mainnet, testnet, …")
@click.option("--hidden", is_flag=True, help="Add it without showing it to readers yet.")
def payment_method_add(coin: str, address: str, label: str, network: str, hidden: bool) -> None:
    """Add a coin address (checked by checksum) or an account's extended public key (xpub, zpub…).

    Audited as a change made from the server's shell. With an extended key, readers get a
    fresh address per article (`?ref=`) and after each payment.
    """
    from ..accounts.operations import SERVER_SHELL
    from ..audit import Actor
    from ..payments.operations import PaymentMethodInput, save_payment_method
    from .derivation import looks_extended

    context = _context()
    kind = "xpub" if looks_extended(address) else "address"
    with context.session(write=True) as session:
        method = save_payment_method(session, PaymentMethodInput(
            kind=kind, coin=coin, target=address, label=label, network=network, active=not hidden),
            actor=Actor.cli(), proof=SERVER_SHELL)
        session.flush()
        what = "extended public key" if kind == "xpub" else "address"
        click.echo(f"added {method.coin} {what} {method.target} (id {method.id}"
                   f"{', hidden' if hidden else ''})")


@payment_method.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also the hidden (deactivated) ones.")
def payment_method_list(show_all: bool) -> None:
    """The ways to give, in the order readers see them: id, coin, shown/hidden, label, address."""
    from ..payments.operations import list_payment_methods

    context = _context()
    with context.session(write=False) as session:
        for method in list_payment_methods(session, active_only=not show_all):
            state = "shown" if method.active else "hidden"
            click.echo(f"{method.id}\t{method.coin}\t{state}\t{method.label or '-'}\t{method.target}")


@payment_method.command("deactivate")
@click.argument("method_id", type=click.IntRange(1, 2**31 - 1))
def payment_method_deactivate(method_id: int) -> None:
    """Hide a way to give from readers (kept, with its history; the admin can show it again)."""
    from ..accounts.operations import SERVER_SHELL
    from ..audit import Actor
    from ..payments.operations import PaymentMethodInput, get_payment_method, save_payment_method

    context = _context()
    with context.session(write=True) as session:
        method = get_payment_method(session, method_id)
        if not method.active:
            click.echo(f"error: payment method {method_id} is already hidden", err=True)
            sys.exit(1)
        save_payment_method(session, PaymentMethodInput(
            kind=method.kind, coin=method.coin, target=method.target, label=method.label,
            network=method.network, active=False), actor=Actor.cli(), method=method, proof=SERVER_SHELL)
        click.echo(f"hid {method.coin} {method.target} (id {method.id})")


@payment_method.command("addresses")
@click.argument("method_id", type=click.IntRange(1, 2**31 - 1))
def payment_method_addresses(method_id: int) -> None:
    """The addresses an extended-key method handed out: derivation index, article, paid or not."""
    from ..payments.operations import get_payment_method
    from .receiving import addresses_of

    context = _context()
    with context.session(write=False) as session:
        method = get_payment_method(session, method_id)
        if method.kind != "xpub":
            click.echo("error: this payment method is a single address, it derives none", err=True)
            sys.exit(1)
        for derived in addresses_of(session, method):
            paid = f"paid {derived.paid_at:%Y-%m-%d %H:%M}" if derived.paid_at else "unpaid"
            click.echo(f"{derived.derivation_index}\t{derived.address}\t{derived.ref or '-'}\t{paid}")
