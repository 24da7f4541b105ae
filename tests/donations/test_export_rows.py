"""The export reads the driver's own values (tracker.donations.export.iter_donation_rows) for speed.

These tests hold it to what the typed ORM values say, on SQLite and PostgreSQL: amounts in
each currency's places, rates exactly, times as `isoformat()` of the aware UTC value (with and
without microseconds), booleans, and formula-like text neutralised in CSV.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from factories import CLI, new_campaign, new_donation
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.donations.export import (
    DONATION_COLUMNS,
    _iso_raw,
    _rate_raw,
    export_csv,
    export_json,
    iter_donation_rows,
    neutralise_cell,
)
from tracker.donations.rates import record_rate
from tracker.models import Donation
from tracker.money import Money


def typed_row(donation: Donation, slug: str) -> tuple[object, ...]:
    """What a donation's export row must be, built from the ORM object with the slow, obvious code."""
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None
    return (donation.uid, slug, Money(donation.amount_minor, donation.currency).plain(), donation.currency,
            Money(donation.goal_amount_minor, donation.goal_currency).plain(), donation.goal_currency,
            format(donation.rate, "f") if donation.rate is not None else None, donation.rate_source,
            iso(donation.rate_as_of), donation.source, donation.external_id, donation.status, donation.donor_name,
            donation.message, donation.is_public, donation.reason, iso(donation.received_at),
            iso(donation.recorded_at), donation.ref, donation.recurring)


def ledger(session: Session) -> None:
    campaign = new_campaign(session, "rows", currency="USD")
    other = new_campaign(session, "yen", currency="JPY")
    record_rate(session, "EUR", "USD", "1.0825", datetime(2026, 10, 31, tzinfo=timezone.utc), "ecb", CLI)
    record_rate(session, "BTC", "USD", "63250.12345678", datetime(2026, 10, 31, 12, 30, tzinfo=timezone.utc),
                "manual", CLI)
    session.commit()
    whole = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    new_donation(session, campaign, "12.50", received_at=whole, donor_name="=HYPERLINK(1)", is_public=True,
                 ref="https://news.example/2026/budget")
    new_donation(session, campaign, "10", "EUR", received_at=whole + timedelta(microseconds=7),
                 message="'quoted", external_id="-x")
    renewal = new_donation(session, campaign, "0.00012345", "BTC", ref="-dash-slug",
                           received_at=whole + timedelta(seconds=1, microseconds=1))
    renewal.recurring = True  # as the processors mark a subscription's renewal
    session.commit()
    new_donation(session, campaign, "-5.00", source="adjustment", reason="+correction", received_at=whole)
    new_donation(session, other, "1500", received_at=whole, status="pending", donor_name="Zoë Ж")
    # Cells the csv module must quote: a comma, a quote, line breaks.
    new_donation(session, campaign, "3", received_at=whole, donor_name='Ann "Nan", Lee',
                 message="line one\nline two\r\nthree", is_public=True)
    new_donation(session, campaign, "4", received_at=whole, donor_name="carriage\rreturn", message="a,b")


def test_rows_equal_the_typed_values(session: Session) -> None:
    ledger(session)
    expected = [typed_row(d, d.campaign.slug) for d in session.scalars(select(Donation).order_by(Donation.id))]
    rows = list(iter_donation_rows(session))
    assert rows == expected
    assert len(rows) == 7 and all(len(row) == len(DONATION_COLUMNS) for row in rows)
    # The times with and without microseconds, and a rate with eight places, came through.
    assert {row[16] for row in rows} >= {"2026-11-02T08:00:00+00:00", "2026-11-02T08:00:00.000007+00:00"}
    assert "63250.12345678" in {row[6] for row in rows}


def test_one_campaign_only(session: Session) -> None:
    ledger(session)
    yen = session.scalars(select(Donation).where(Donation.currency == "JPY")).one()
    rows = list(iter_donation_rows(session, yen.campaign_id))
    assert [row[0] for row in rows] == [yen.uid] and rows[0][2] == "1500"


def test_csv_neutralises_every_text_cell(session: Session) -> None:
    ledger(session)
    out = io.StringIO()
    assert export_csv(session, out) == 7
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(table[0]) == DONATION_COLUMNS
    expected = [[neutralise_cell(value) for value in typed_row(d, d.campaign.slug)]
                for d in session.scalars(select(Donation).order_by(Donation.id))]
    assert table[1:] == expected
    # Character for character what the csv module writes for each row (the export joins plain
    # lines itself), with every cell holding a line break quoted, a lone "\r" included.
    def written(cells: list[str]) -> str:
        line = io.StringIO()
        csv.writer(line, lineterminator="\r\n").writerow(cells)
        return line.getvalue()[:-2]
    assert out.getvalue() == "\n".join(written(list(cells)) for cells in [DONATION_COLUMNS, *expected]) + "\n"
    assert '"Ann ""Nan"", Lee"' in out.getvalue() and '"carriage\rreturn"' in out.getvalue()
    cells = {cell for row in table[1:] for cell in row}
    assert {"'=HYPERLINK(1)", "''quoted", "'-x", "'+correction", "-5.00", "true", "false", "'-dash-slug"} <= cells
    assert [row[-2:] for row in table[1:4]] == [["https://news.example/2026/budget", "false"], ["", "false"],
                                                ["'-dash-slug", "true"]]


def test_json_equals_the_typed_values(session: Session) -> None:
    ledger(session)
    out = io.StringIO()
    assert export_json(session, out) == 7
    donations = json.loads(out.getvalue())["donations"]
    expected = [dict(zip(DONATION_COLUMNS, typed_row(d, d.campaign.slug), strict=True))
                for d in session.scalars(select(Donation).order_by(Donation.id))]
    assert donations == expected
    # Each record is written as json.dumps writes it (the export fills a template itself).
    for record in expected:
        assert "\n  " + json.dumps(record, ensure_ascii=False) in out.getvalue()


def test_stored_text_forms() -> None:
    assert _iso_raw(None) is None
    assert _iso_raw("2026-11-02 08:00:00.000000") == "2026-11-02T08:00:00+00:00"
    assert _iso_raw("2026-11-02 08:00:00.120000") == "2026-11-02T08:00:00.120000+00:00"
    # Forms the fast path does not take are parsed: no offset means UTC.
    assert _iso_raw("2026-11-02 08:00:00") == "2026-11-02T08:00:00+00:00"
    assert _iso_raw("2026-11-02T09:00:00+01:00") == "2026-11-02T08:00:00+00:00"
    berlin = timezone(timedelta(hours=1))
    assert _iso_raw(datetime(2026, 11, 2, 9, tzinfo=berlin)) == "2026-11-02T08:00:00+00:00"
    assert _rate_raw(None) is None
    assert _rate_raw("1.0825") == "1.0825"
    assert _rate_raw("1E+2") == format(Decimal("1E+2"), "f") == "100"


def test_stored_times_the_database_does_not_rewrite_are_parsed(session: Session) -> None:
    """Text SQLAlchemy did not write (a hand-made row, an old tool) goes through `_iso_raw` on SQLite."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores timestamptz: there is no other text to meet")
    ledger(session)
    first = session.scalars(select(Donation).order_by(Donation.id)).first()
    session.execute(text("UPDATE donation SET received_at = '2026-11-02 09:30:00', "
                         "rate_as_of = '2026-10-31 12:00:00.250000' WHERE id = :id"), {"id": first.id})
    session.commit()
    row = next(iter_donation_rows(session))
    assert row[16] == "2026-11-02T09:30:00+00:00" and row[8] == "2026-10-31T12:00:00.250000+00:00"
    session.expire_all()
    assert row == typed_row(session.get(Donation, first.id), "rows")
