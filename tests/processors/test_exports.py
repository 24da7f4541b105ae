"""Processors' CSV exports through `tracker import`: recognised by header, idempotent, refunds as meant."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner
from processor_helpers import FIXTURES, fixture, send_stripe
from sqlalchemy import select

from tracker.cli import main
from tracker.models import Donation


@pytest.fixture()
def cli(clean_db, database_url, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(f'environment = "testing"\n[security]\nsecret_key = "cli-test-secret-0123456789"\n'
                      f'[database]\nurl = "{database_url}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_CONFIG", str(config))

    def run(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    return run


def ledger(session, source):
    session.rollback()
    return {d.external_id: d for d in session.scalars(select(Donation).where(Donation.source == source))}


def copy(tmp_path, name, text=None, encoding="utf-8"):
    path = tmp_path / name
    if text is None:
        shutil.copy(FIXTURES / name, path)
    else:
        path.write_bytes(text.encode(encoding))
    return str(path)


def test_a_stripe_export_is_recognised_and_re_importing_adds_nothing(cli, session, make_campaign, tmp_path):
    make_campaign("demo")
    make_campaign("spring-appeal")
    path = copy(tmp_path, "stripe_payments_export.csv")
    result = cli("import", path, "--campaign", "demo")
    assert result.exit_code == 0, result.output
    assert "Stripe payments export: 3 gifts; 1 row is not a gift" in result.output
    gifts = ledger(session, "stripe")
    partly = gifts["pi_3NiEd6CwCgBEGV8O0mJ5cV5e"]
    assert (partly.amount_minor, partly.status, partly.campaign.slug) == (1500, "confirmed", "demo")
    assert "partly refunded" in partly.reason
    assert gifts["pi_3NiF01CwCgBEGV8O1xY2zW3v"].campaign.slug == "spring-appeal"  # from its metadata column
    assert gifts["pi_3NiF9xCwCgBEGV8O0mN4bV5c"].status == "refunded"
    again = cli("import", path, "--campaign", "demo")
    assert "imported 0 donations, skipped 3" in again.output
    assert len(ledger(session, "stripe")) == 3


def test_a_stripe_export_keeps_the_article_of_its_ref_metadata(cli, session, make_campaign, tmp_path):
    make_campaign("demo")
    header, first, *_ = (FIXTURES / "stripe_payments_export.csv").read_text().splitlines()
    path = copy(tmp_path, "stripe.csv", f"{header},ref (metadata)\n{first},budget-2026\n")
    assert cli("import", path, "--campaign", "demo").exit_code == 0
    assert [gift.ref for gift in ledger(session, "stripe").values()] == ["budget-2026"]
    bad = copy(tmp_path, "bad.csv", f"{header},ref (metadata)\n{first},two words\n")
    refused = cli("import", bad, "--campaign", "demo")
    assert refused.exit_code == 1 and "spaces or control characters" in refused.output


def test_a_payment_seen_by_webhook_and_export_is_one_gift(cli, hooks, session, make_campaign, tmp_path):
    make_campaign("demo")
    make_campaign("spring-appeal")
    send_stripe(hooks, fixture("stripe_checkout_session_completed.json"))
    result = cli("import", copy(tmp_path, "stripe_payments_export.csv"), "--campaign", "demo")
    assert "imported 2 donations, skipped 1" in result.output
    assert len(ledger(session, "stripe")) == 3


def test_a_paypal_activity_download_counts_gross_and_applies_refunds(cli, session, make_campaign, tmp_path):
    make_campaign("demo")
    result = cli("import", copy(tmp_path, "paypal_activity.csv"), "--campaign", "demo")
    assert result.exit_code == 0, result.output
    gifts = ledger(session, "paypal")
    assert set(gifts) == {"7KX12345AB678901C", "9LM98765CD432109E"}
    big = gifts["7KX12345AB678901C"]
    assert (big.amount_minor, big.donor_name, big.message) == (100000, "Grace Hopper", "Keep it up")
    assert big.received_at.isoformat() == "2026-11-28T17:15:02+00:00"  # 09:15 PST
    assert gifts["9LM98765CD432109E"].amount_minor == 1500  # 20.00 less a 5.00 refund


def test_an_open_collective_export_counts_contributions_only(cli, session, make_campaign, tmp_path):
    make_campaign("demo", currency="EUR")
    result = cli("import", copy(tmp_path, "opencollective_transactions.csv"), "--campaign", "demo")
    assert result.exit_code == 0, result.output
    gifts = ledger(session, "opencollective")
    assert {k: (d.amount_minor, d.status) for k, d in gifts.items()} == {
        "3f6c2d1e-8a4b-4c7d-9e0f-1a2b3c4d5e6f": (1000, "confirmed"),
        "5a7b9c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d": (2500, "refunded")}


def test_an_unknown_file_is_refused_with_its_columns_and_the_way_to_map_them(cli, session, make_campaign, tmp_path):
    make_campaign("demo")
    text = "DateTime (UTC),From,Message,Received,Currency,TransactionId,Page\n" \
           "2026-11-02 10:00:00,Ko-fi Fan,Thanks!,3.00,USD,0a1fac0c,https://News.example/story/?utm_source=x\n"
    path = copy(tmp_path, "kofi.csv", text)
    result = cli("import", path, "--campaign", "demo")
    assert result.exit_code != 0
    assert "Columns found: DateTime (UTC), From, Message, Received, Currency, TransactionId, Page" in result.output
    assert "--map COLUMN=FIELD" in result.output and "Traceback" not in result.output
    mapped = cli("import", path, "--campaign", "demo", "--source", "kofi", "--map", "TransactionId=id",
                 "--map", "Received=amount", "--map", "Currency=currency", "--map", "DateTime (UTC)=date",
                 "--map", "From=name", "--map", "Message=message", "--map", "Page=ref")
    assert mapped.exit_code == 0, mapped.output
    [gift] = ledger(session, "kofi").values()
    assert (gift.amount_minor, gift.donor_name, gift.external_id) == (300, "Ko-fi Fan", "0a1fac0c")
    # The article as a webhook would keep it (host lower-cased, query and trailing slash off).
    assert gift.ref == "https://news.example/story"
    bad = cli("import", path, "--map", "Nope=id")
    assert bad.exit_code != 0 and "does not have: Nope" in bad.output


def test_a_processor_export_without_a_campaign_is_refused(cli, session, tmp_path):
    result = cli("import", copy(tmp_path, "paypal_activity.csv"))
    assert result.exit_code != 0 and "--campaign SLUG" in result.output


def test_semicolons_windows_1252_and_a_bom_are_read(cli, session, make_campaign, tmp_path):
    make_campaign("demo", currency="EUR")
    text = "\ufeffdatetime;id;type;kind;isRefund;isRefunded;amount;currency;oppositeAccountName;description\r\n" \
           "2026-11-15T10:00:00Z;oc-1;CREDIT;CONTRIBUTION;false;false;10.00;EUR;Jürgen Groß;Grüße\r\n"
    result = cli("import", copy(tmp_path, "oc.csv", text), "--campaign", "demo")
    assert result.exit_code == 0, result.output
    cp1252 = text.replace("oc-1", "oc-2").lstrip("\ufeff")
    refused = cli("import", copy(tmp_path, "oc1252.csv", cp1252, "cp1252"), "--campaign", "demo")
    assert refused.exit_code != 0 and "--encoding cp1252" in refused.output and "Traceback" not in refused.output
    read = cli("import", copy(tmp_path, "oc1252.csv", cp1252, "cp1252"), "--campaign", "demo", "--encoding", "cp1252")
    assert read.exit_code == 0, read.output
    names = sorted(d.donor_name for d in ledger(session, "opencollective").values())
    assert names == ["Jürgen Groß", "Jürgen Groß"]


def test_a_bad_row_refuses_the_whole_export(cli, session, make_campaign, tmp_path):
    make_campaign("demo")
    text = (FIXTURES / "stripe_payments_export.csv").read_text().replace("2023-08-23 11:02:05", "yesterday")
    result = cli("import", copy(tmp_path, "bad.csv", text), "--campaign", "demo")
    assert result.exit_code != 0 and "line 3" in result.output and "nothing was imported" in result.output
    assert ledger(session, "stripe") == {}


def test_the_admin_import_reads_a_processor_export(admin, session, make_campaign):
    make_campaign("demo", currency="EUR")
    data = (FIXTURES / "opencollective_transactions.csv").read_bytes()
    import io

    page = admin.post("/admin/donations/import", data={"file": (io.BytesIO(data), "transactions.csv"),
                                                        "campaign": "demo"}, content_type="multipart/form-data")
    assert page.status_code == 200, page.data
    text = page.get_data(as_text=True)
    assert "2 new donations" in text
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', text).group(1)
    signature = re.search(r'name="signature" type="hidden" value="([^"]+)"', text).group(1)
    done = admin.post("/admin/donations/import/confirm", data={"payload": payload, "signature": signature})
    assert done.status_code == 302
    assert len(ledger(session, "opencollective")) == 2
    unknown = admin.post("/admin/donations/import", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                         content_type="multipart/form-data")
    assert unknown.status_code == 422 and "Columns found: a, b" in unknown.get_data(as_text=True)
