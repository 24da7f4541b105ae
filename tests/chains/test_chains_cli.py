"""`tracker watch --once` and `tracker payment-method add`: one line per coin, an exit status, no traceback."""

from __future__ import annotations

import pytest
from chain_helpers import fixture
from click.testing import CliRunner
from sqlalchemy import select

from tracker.cli import main
from tracker.models import AuditEvent, ChainWatcher, Donation, PaymentMethod

W = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


@pytest.fixture()
def cli(clean_db, database_url, tmp_path, monkeypatch, replay):
    def run(*args, chains=""):
        config = tmp_path / "config.toml"
        config.write_text(f'environment = "testing"\n[security]\nsecret_key = "cli-test-secret-0123456789"\n'
                          f'[database]\nurl = "{database_url}"\n{chains}')
        monkeypatch.setenv("TRACKER_CONFIG", str(config))
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    return run


def _btc(url):
    return f'[chains.btc]\nbackend = "esplora"\nurl = "{url}"\n'


def test_payment_method_add_validates_and_audits(cli, session):
    result = cli("payment-method", "add", "btc", W.upper(), "--label", "Bitcoin")
    assert result.exit_code == 0, result.output
    assert f"added BTC address {W}" in result.output
    method = session.scalars(select(PaymentMethod)).one()
    assert (method.coin, method.target, method.label) == ("BTC", W, "Bitcoin")
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "payment_method.create")).one().actor == "cli"


@pytest.mark.parametrize("args, message", [
    (("BTC", W[:-1] + "5"), "checksum"),
    (("XYZ", W), "unsupported coin"),
    (("BTC", W, "--label", "x" * 61), "too long"),
])
def test_payment_method_add_refuses_in_one_line(cli, session, args, message):
    result = cli("payment-method", "add", *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert session.scalars(select(PaymentMethod)).all() == []


def test_watch_once_prints_a_line_per_coin(cli, session, replay, make_campaign, add_method, rate):
    make_campaign("news")
    add_method("BTC", W)
    rate("BTC", "USD", "50000")
    replay.answer("/blocks/tip/height", "600000")
    replay.answer(f"/address/{W}/txs", fixture("esplora/address_txs.json")[2:])
    result = cli("watch", "--once", chains=_btc(replay.url))
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "BTC: ok, 1 address(es), 0 new, 0 confirmed, 0 taken back out, 1 waiting for a rate or a campaign"]
    status = cli("watch", "--status", chains=_btc(replay.url))
    assert status.output.startswith("BTC watcher: last good answer just now")


def test_watch_once_fails_with_a_non_zero_status_and_no_traceback(cli, session, add_method):
    add_method("BTC", W)
    result = cli("watch", "--once", chains=_btc("http://127.0.0.1:9"))
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("BTC: failed (1 in a row): 127.0.0.1/blocks/tip/height could not be reached")
    session.expire_all()
    assert session.get(ChainWatcher, "BTC").failures == 1
    assert session.scalars(select(Donation)).all() == []


def test_watch_without_a_configured_coin_says_so(cli):
    result = cli("watch", "--once")
    assert result.exit_code == 1 and "no coin is watched" in result.output


ZPUB = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"


def test_payment_method_add_takes_an_extended_key_and_lists_its_addresses(cli, session):
    from tracker.chains.receiving import receiving_address

    result = cli("payment-method", "add", "BTC", ZPUB)
    assert result.exit_code == 0 and "extended public key" in result.output
    method = session.scalars(select(PaymentMethod)).one()
    assert method.kind == "xpub"
    receiving_address(session, method, "article-one", gap_limit=20)
    session.commit()
    listing = cli("payment-method", "addresses", str(method.id))
    assert listing.output.splitlines() == ["0\tbc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu\tarticle-one\tunpaid"]


def test_payment_method_add_refuses_a_private_key(cli, session):
    xprv = "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM"
    result = cli("payment-method", "add", "BTC", xprv)
    assert result.exit_code == 1 and "private key" in result.output
    assert session.scalars(select(PaymentMethod)).all() == []


def test_watch_runs_in_the_foreground_until_interrupted(cli, session, replay, make_campaign, add_method, rate,
                                                        monkeypatch):
    make_campaign("news")
    add_method("BTC", W)
    rate("BTC", "USD", "50000")
    replay.answer("/blocks/tip/height", "600000")
    replay.answer(f"/address/{W}/txs", [])

    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr("tracker.chains.cli.time.sleep", interrupt)
    result = cli("watch", chains=_btc(replay.url))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "watching BTC (Ctrl-C to stop)"
    assert lines[1].endswith("BTC: ok, 1 address(es), 0 new, 0 confirmed, 0 taken back out, 0 waiting for a rate or a campaign")
    assert lines[-1] == "stopped"


@pytest.mark.parametrize("command", [("watch",), ("payment-method",), ("payment-method", "add"),
                                     ("payment-method", "addresses")])
def test_the_chain_commands_have_help(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0 and len(result.output.splitlines()) >= 4
