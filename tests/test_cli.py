"""The `tracker` command line: demo data, recording, admins, export and re-import."""

import csv
import hashlib
import io
import json

import pytest
from click.testing import CliRunner
from factories import clean_database as _clean
from sqlalchemy import func, select

from tracker.campaigns.progress import campaign_progress
from tracker.cli import main
from tracker.coins import validate_address
from tracker.models import Campaign, Donation, ExchangeRate, PaymentMethod, User
from tracker.money import Money


@pytest.fixture()
def cli(clean_db, database_url, tmp_path, monkeypatch):
    """Run `tracker …` against the test database, from an empty working directory."""
    config = tmp_path / "config.toml"
    config.write_text(f'environment = "testing"\n[security]\nsecret_key = "cli-test-secret-0123456789"\n'
                      f'[database]\nurl = "{database_url}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_CONFIG", str(config))

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return run


def test_demo_is_the_reference_page(cli, session):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    campaign = session.scalar(select(Campaign).where(Campaign.slug == "demo"))
    assert (campaign.period, campaign.target_minor, campaign.currency) == ("monthly", 500000, "USD")
    assert [(m.amount_minor, m.label.split(":")[0]) for m in campaign.milestones] == [(250000, "Halfway")]
    progress = campaign_progress(session, campaign)
    assert progress.raised == Money(216000, "USD")
    assert progress.donors == 40
    currencies = session.execute(select(Donation.currency, func.count()).group_by(Donation.currency)).all()
    assert dict(currencies) == {"USD": 35, "BTC": 3, "BCH": 2}
    assert all(d.rate is not None for d in session.scalars(select(Donation).where(Donation.currency != "USD")))
    methods = {m.coin: m for m in session.scalars(select(PaymentMethod))}
    assert validate_address("BTC", methods["BTC"].target) == methods["BTC"].target
    assert validate_address("BCH", methods["BCH"].target) == methods["BCH"].target
    assert methods["email"].target == "support@example.org"

    again = cli("demo")
    assert again.exit_code == 1 and "already has campaigns" in again.output
    quiet = cli("demo", "--if-empty")
    assert quiet.exit_code == 0 and "demo not loaded" in quiet.output
    assert session.scalar(select(func.count()).select_from(Donation)) == 40


def test_record_donation_converts_and_is_idempotent(cli, session):
    cli("demo")
    result = cli("record-donation", "demo", "0.0015", "BTC", "--external-id", "tx-9")
    assert result.exit_code == 0
    assert "0.00150000 BTC = 90.00 USD at 60000 USD/BTC" in result.output
    again = cli("record-donation", "demo", "0.0015", "BTC", "--external-id", "tx-9")
    assert "nothing added" in again.output
    assert session.scalar(select(func.count()).select_from(Donation)) == 41


@pytest.mark.parametrize("args, message", [
    (("demo", "1e3", "USD"), "exponent notation is not accepted"),
    (("demo", "12.345", "USD"), "USD has 2 decimal places"),
    (("demo", "12,50", "USD"), "use a dot for decimals"),
    (("demo", "5", "XMR"), "no XMR→USD exchange rate"),
    (("nope", "5", "USD"), "there is no campaign 'nope'"),
])
def test_record_donation_refuses_bad_input_in_one_line(cli, session, args, message):
    cli("demo")
    result = cli("record-donation", *args)
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {result.output.strip()[7:]}" and message in result.output
    assert session.scalar(select(func.count()).select_from(Donation)) == 40


@pytest.mark.parametrize("args", [("demo", "-5", "USD"), ("demo", "-0.01", "usd"), ("demo", "--", "-5", "USD")])
def test_a_negative_donation_is_refused_with_what_to_do_instead(cli, session, args):
    cli("demo")
    result = cli("record-donation", *args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("error: a donation is a positive amount, not -") and "No such option" not in result.output
    assert "refund" in result.output and "Set raised to" in result.output and len(result.output.splitlines()) == 1
    assert session.scalar(select(func.count()).select_from(Donation)) == 40


def test_create_admin_reads_the_password_never_from_an_argument(cli, session):
    result = cli("create-admin", "Owner@Example.org", "--password-stdin", input="a long enough password\n")
    assert result.exit_code == 0 and "created owner owner@example.org" in result.output
    assert session.scalar(select(User.role).where(User.email == "owner@example.org")) == "owner"
    short = cli("create-admin", "b@example.org", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    prompted = cli("create-admin", "c@example.org", input="another long password\nanother long password\n")
    assert prompted.exit_code == 0
    assert "--password " not in cli("create-admin", "--help").output


def test_json_export_restores_the_same_ledger_and_reimport_adds_nothing(cli, session, clean_db, tmp_path):
    cli("demo")
    cli("record-donation", "demo", "7", "USD", "--pending")
    # An article's gift and a renewal: a backup keeps what the by-article report and the
    # recurring mark read.
    first, second = session.scalars(select(Donation).order_by(Donation.id).limit(2))
    first.ref, second.recurring = "https://news.example/2026/budget", True
    marked = {first.uid: ("https://news.example/2026/budget", False), second.uid: (None, True)}
    session.commit()
    before = campaign_progress(session, session.scalar(select(Campaign)))
    uids = set(session.scalars(select(Donation.uid)))
    assert cli("export", "--format", "json", "-o", "backup.json").exit_code == 0
    data = json.loads((tmp_path / "backup.json").read_text())
    assert len(data["donations"]) == 41 and data["campaigns"][0]["target"] == "5000.00"

    session.close()
    _clean(clean_db)
    result = cli("import", "backup.json")
    assert result.exit_code == 0, result.output
    assert "imported 41 donations, skipped 0" in result.output
    campaign = session.scalar(select(Campaign))
    after = campaign_progress(session, campaign)
    assert (after.raised, after.pending, after.donors) == (before.raised, before.pending, before.donors)
    assert set(session.scalars(select(Donation.uid))) == uids
    restored = {uid: (ref, recurring) for uid, ref, recurring in session.execute(
        select(Donation.uid, Donation.ref, Donation.recurring).where(Donation.uid.in_(marked)))}
    assert restored == marked
    assert session.scalar(select(func.count()).select_from(Donation).where(
        (Donation.ref.is_not(None)) | Donation.recurring)) == 2
    assert session.scalar(select(func.count()).select_from(ExchangeRate)) == 2
    assert session.scalar(select(func.count()).select_from(PaymentMethod)) == 3

    again = cli("import", "backup.json")
    assert "imported 0 donations, skipped 41" in again.output
    assert cli("db", "check").exit_code == 0


def test_csv_export_neutralises_formulas_and_reimports_them_exactly(cli, session, clean_db, tmp_path):
    cli("demo")
    names = ["=HYPERLINK(\"http://evil.example\")", "+1 fan", "-minus", "@handle", "'quoted"]
    for index, name in enumerate(names):
        assert cli("record-donation", "demo", "1", "USD", "--donor", name, "--external-id", f"n{index}").exit_code == 0
    assert cli("export", "--format", "csv", "-o", "ledger.csv").exit_code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "ledger.csv").read_text())))
    written = [row["donor_name"] for row in rows[-len(names):]]
    assert all(cell.startswith("'") for cell in written)

    session.close()
    _clean(clean_db)
    cli("demo")  # the campaign must exist for a donations CSV
    session.execute(Donation.__table__.delete())
    from tracker.models import PeriodTotal
    session.execute(PeriodTotal.__table__.delete())
    session.commit()
    result = cli("import", "ledger.csv")
    assert result.exit_code == 0, result.output
    restored = session.scalars(select(Donation.donor_name).where(Donation.external_id.like("n%"))
                               .order_by(Donation.external_id)).all()
    assert restored == names
    assert campaign_progress(session, session.scalar(select(Campaign))).raised == Money(216500, "USD")


def test_an_import_with_a_bad_row_saves_nothing_and_names_the_line(cli, session, tmp_path):
    cli("demo")
    (tmp_path / "new.csv").write_text(
        "campaign,amount,currency,received_at,external_id,source\n"
        "demo,5.00,USD,2026-11-01T10:00:00+00:00,a1,csv\n"
        "demo,1e3,USD,2026-11-01T10:00:00+00:00,a2,csv\n"
        "demo,5.00,USD,yesterday,a3,csv\n"
        "nope,5.00,USD,2026-11-01T10:00:00+00:00,a4,csv\n")
    result = cli("import", "new.csv")
    assert result.exit_code == 1
    assert "line 3: exponent notation" in result.output
    assert "line 4: received_at 'yesterday' is not an ISO 8601 time" in result.output
    assert "line 5: no campaign 'nope'" in result.output
    assert "nothing was imported" in result.output
    assert session.scalar(select(func.count()).select_from(Donation)) == 40


def test_every_command_has_help(cli):
    for command in ("init", "db", "create-admin", "demo", "record-donation", "rate", "export", "import", "serve"):
        result = cli(command, "--help")
        assert result.exit_code == 0
        assert len(result.output.splitlines()) >= 4


def test_cells_are_neutralised_and_restored_one_for_one():
    from tracker.donations.export import neutralise_cell, restore_cell

    for text in ("=1+1", "+1", "-x", "@x", "\tx", "\rx", "'x", "''x", "plain", "-5.00", ""):
        cell = neutralise_cell(text)
        assert not cell.startswith(("=", "+", "@", "\t", "\r")) and not (cell.startswith("-") and cell != "-5.00")
        assert restore_cell(cell) == text


def test_rows_without_ids_are_imported_once_even_when_imported_again(cli, session, tmp_path):
    cli("demo")
    (tmp_path / "bank.csv").write_text(
        "campaign,amount,currency,received_at,donor_name\n"
        "demo,5.00,USD,2026-11-01T10:00:00+00:00,Ann\n"
        "demo,5.00,USD,2026-11-01T10:00:00+00:00,Ann\n"   # a second, identical gift
        "demo,7.00,USD,2026-11-02T10:00:00+00:00,Bo\n")
    first = cli("import", "bank.csv")
    assert "imported 3 donations, skipped 0" in first.output
    again = cli("import", "bank.csv")
    assert "imported 0 donations, skipped 3" in again.output
    assert session.scalar(select(func.count()).select_from(Donation)) == 43
    # The uid is the one made before the export gained ref and recurring (December 2026): a
    # file imported then and again now is still the same gifts.
    columns = ("campaign", "amount", "currency", "goal_amount", "goal_currency", "rate", "rate_source", "rate_as_of",
               "source", "external_id", "status", "donor_name", "message", "is_public", "reason", "received_at",
               "recorded_at")
    ann = {"campaign": "demo", "amount": "5.00", "currency": "USD", "received_at": "2026-11-01T10:00:00+00:00",
           "donor_name": "Ann"}
    content = json.dumps({key: ann.get(key, "") for key in columns}, sort_keys=True)
    assert session.scalar(select(Donation.donor_name).where(
        Donation.uid == hashlib.sha256(f"{content}#2".encode()).hexdigest()[:32])) == "Ann"


def test_nul_characters_are_refused_in_one_line(cli, session):
    cli("demo")
    result = cli("record-donation", "demo", "5", "USD", "--donor", "a\x00b")
    assert result.exit_code == 1 and "contains a NUL character" in result.output
    assert session.scalar(select(func.count()).select_from(Donation)) == 40


@pytest.mark.parametrize("content, expected", [
    ('{"format": "reader-support-tracker", "version": 1, "donations": {"a": 1}}', "donations must be a list"),
    ('{"format": "reader-support-tracker", "version": 1, "campaigns": [1, 2]}', "campaigns must be a list of objects"),
    ("[1, 2, 3]", "not a reader-support-tracker export"),
    ('{"format": "reader-support-tracker", "version": 1, "donations": [{"campaign": "demo", "amount": 10.5,'
     ' "currency": "USD", "received_at": "2026-11-01T10:00:00+00:00"}]}', "not as the number 10.5"),
    ('{"format": "reader-support-tracker", "version": 1, "donations": [{"campaign": "demo", "amount": "1",'
     ' "currency": "USD", "received_at": "9999-12-31T23:00:00+00:00"}]}', "between the years"),
    ('{"format": "reader-support-tracker", "version": 1, "donations": [{"campaign": "demo", "amount": "1",'
     ' "currency": "USD", "received_at": "2026-11-01T10:00:00+00:00", "donor_name": "' + "x" * 201 + '"}]}',
     "donor_name is too long"),
    ('{"format": "reader-support-tracker", "version": 1, "exchange_rates": [{"base": "BTC"}]}', "as_of is missing"),
])
def test_bad_backups_are_one_line_and_save_nothing(cli, session, tmp_path, content, expected):
    cli("demo")
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output
    assert session.scalar(select(func.count()).select_from(Donation)) == 40


def test_csv_in_windows_1252_is_named_and_can_be_read_when_said(cli, session, tmp_path):
    cli("demo")
    path = tmp_path / "bank.csv"
    path.write_bytes("campaign,amount,currency,received_at,external_id,donor_name\r\n"
                     "demo,5,USD,2026-11-01T10:00:00+00:00,bank-1,Zoë Müller\r\n".encode("cp1252"))
    refused = cli("import", str(path))
    assert refused.exit_code == 1 and "--encoding cp1252" in refused.output and "Traceback" not in refused.output
    done = cli("import", str(path), "--encoding", "cp1252")
    assert done.exit_code == 0, done.output
    assert session.scalar(select(Donation.donor_name).where(Donation.external_id == "bank-1")) == "Zoë Müller"


def test_crlf_inside_a_quoted_cell_survives_the_import(cli, session, tmp_path):
    cli("demo")
    path = tmp_path / "messages.csv"
    path.write_bytes(b'campaign,amount,currency,received_at,external_id,message\r\n'
                     b'demo,5,USD,2026-11-01T10:00:00+00:00,m-1,"line one\r\nline two"\r\n')
    assert cli("import", str(path)).exit_code == 0
    assert session.scalar(select(Donation.message).where(Donation.external_id == "m-1")) == "line one\r\nline two"


@pytest.mark.parametrize("args, expected", [
    (("db", "upgrade", "nonsense"), "migrations:"),
    (("record-donation", "demo", "5", "USD", "--received-at", "9999-12-31T23:59"), "between the years"),
    (("record-donation", "demo", "5", "USD", "--received-at", "２０２６-01-01"), "digits 0-9"),
    (("rate", "BTC", "USD", "٥٠٠٠٠"), "is not a rate"),
])
def test_bad_arguments_are_one_line(cli, args, expected):
    cli("demo")
    result = cli(*args)
    assert result.exit_code != 0 and expected in result.output and "Traceback" not in result.output


def test_serve_on_a_busy_port_says_so_in_one_line_before_starting(cli, monkeypatch):
    import socket

    import tracker.cli

    started = []
    monkeypatch.setattr(tracker.cli, "run_gunicorn", lambda *args: started.append(args))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: cannot serve on 127.0.0.1:{port}: the port is already in use; "
                                     "stop what is using it or choose another with --port")
    assert "serving" not in result.output and started == []


def test_serve_on_a_free_port_starts_gunicorn(cli, monkeypatch):
    import socket

    import tracker.cli

    started = []
    monkeypatch.setattr(tracker.cli, "run_gunicorn", lambda *args: started.append(args[1:3]))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
    result = cli("serve", "--port", str(port))
    assert result.exit_code == 0, result.output
    assert started == [("127.0.0.1", port)] and "warning" not in result.output  # development: no warning


@pytest.mark.parametrize(("site_url", "port", "expected"), [
    ("http://127.0.0.1:5000", 5101, "site.url is http://127.0.0.1:5000 but this serves port 5101"),
    ("http://localhost:5000", 5000, "which only this machine reaches"),
    ("https://news.example", 8000, None),  # behind a proxy: the public name rightly differs
])
def test_serve_warns_in_production_when_site_url_cannot_be_where_readers_go(site_url, port, expected):
    from tracker.cli import site_url_warning

    warning = site_url_warning(site_url, "127.0.0.1", port, development=False)
    assert (warning is None) if expected is None else (expected in warning)
    assert site_url_warning(site_url, "127.0.0.1", port, development=True) is None


def test_a_site_is_provisioned_from_a_script_campaigns_and_payment_methods(cli, session):
    from tracker.demo import DEMO_BTC_ADDRESS
    from tracker.models import AuditEvent

    added = cli("campaign", "add", "lights", "5000", "eur", "--title", "Keep the lights on", "--period", "monthly",
                "--timezone", "Europe/Berlin", "--milestone", "2500=Halfway")
    assert added.exit_code == 0, added.output
    assert "added campaign lights (draft, goal €5,000)" in added.output and "not public" in added.output
    assert cli("campaign", "edit", "lights", "--status", "active", "--target", "6000").exit_code == 0
    listed = cli("campaign", "list").output
    assert "lights\tactive\t€6,000\tmonthly\tKeep the lights on" in listed
    campaign = session.scalar(select(Campaign).where(Campaign.slug == "lights"))
    assert [(m.amount_minor, m.label) for m in campaign.milestones] == [(250000, "Halfway")]
    refused = cli("campaign", "edit", "lights", "--target", "1e3")
    assert refused.exit_code == 1 and refused.output.startswith("error: ") and "Traceback" not in refused.output
    bad = cli("campaign", "add", "x", "12,50", "USD")
    assert bad.exit_code == 1 and "use a dot" in bad.output
    no_label = cli("campaign", "add", "y", "100", "USD", "--milestone", "50")
    assert no_label.exit_code == 1 and "AMOUNT=LABEL" in no_label.output
    assert cli("campaign", "archive", "lights").exit_code == 0
    assert cli("campaign", "archive", "lights").exit_code == 1  # already archived: one line, not a traceback

    import re

    added_method = cli("payment-method", "add", "BTC", DEMO_BTC_ADDRESS, "--label", "Bitcoin")
    assert added_method.exit_code == 0, added_method.output
    method_id = int(re.search(r"\(id (\d+)", added_method.output).group(1))
    assert f"{method_id}\tBTC\tshown\tBitcoin\t{DEMO_BTC_ADDRESS}" in cli("payment-method", "list").output
    assert cli("payment-method", "deactivate", str(method_id)).exit_code == 0
    assert "BTC" not in cli("payment-method", "list").output
    assert "hidden" in cli("payment-method", "list", "--all").output
    assert cli("payment-method", "deactivate", str(method_id)).exit_code == 1
    session.rollback()
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"campaign.archived"} <= actions and any(a.startswith("payment_method") for a in actions), actions


def test_campaign_texts_in_another_language_from_the_command_line(cli, session):
    added = cli("campaign", "add", "lights", "5000", "EUR", "--title", "Keep the lights on", "--status", "active",
                "--translation", "de:title=Das Licht anlassen", "--translation", "de:description=Server & Kaffee")
    assert added.exit_code == 0, added.output
    campaign = session.scalar(select(Campaign).where(Campaign.slug == "lights"))
    assert campaign.translations == {"de": {"title": "Das Licht anlassen", "description": "Server & Kaffee"}}
    # An edit changes the texts it names, keeps the others, and an empty text removes one.
    assert cli("campaign", "edit", "lights", "--translation", "de:title=Licht an", "--translation",
               "de:description=").exit_code == 0
    assert cli("campaign", "edit", "lights", "--target", "6000").exit_code == 0
    session.rollback()
    assert campaign.translations == {"de": {"title": "Licht an"}} and campaign.target_minor == 600000
    for value, message in (("de-title=x", "LOCALE:FIELD=TEXT"), ("fr:title=x", "'fr' is not one of the site's other "
                            "languages (de; site.locales"), ("en:title=x", "default language: use --title or --description"),
                           ("de:subtitle=x", "unknown translated text 'subtitle'"),
                           ("de:title=" + "x" * 201, "at most 200 characters")):
        refused = cli("campaign", "edit", "lights", "--translation", value)
        assert refused.exit_code == 1 and message in refused.output and "Traceback" not in refused.output, value
    session.rollback()
    assert campaign.translations == {"de": {"title": "Licht an"}}


def test_the_command_line_loads_no_web_framework_and_no_migrations_for_help():
    import subprocess
    import sys

    # `tracker --help` took 0.8 s, mostly Flask, Alembic and a scrypt hash made at import.
    probe = ("import sys, tracker.cli; "
             "print(sorted(m for m in ('flask', 'alembic', 'jinja2', 'huey') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
