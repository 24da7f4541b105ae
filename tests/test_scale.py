"""Every page stays flat as the ledger grows: checked by query plans and statement counts, not time.

On a ledger of 20,000 gifts (and again at 1,000) every page, public and admin, is requested
while the statements it sends are recorded. Then:

* no page sends more statements at 20,000 gifts than at 1,000 (no query per row);
* every statement that reads the ledger is planned as an index read in the order asked —
  no sort of the ledger, no scan of the whole table (EXPLAIN on SQLite and on PostgreSQL).

docs/performance.md has the timed figures at a million gifts (bench/scale.py).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from factories import CLI
from sqlalchemy import event, insert, text

from tracker.campaigns.operations import get_campaign
from tracker.donations.ledger import rebuild_totals
from tracker.models import Donation, utcnow

pytestmark = pytest.mark.slow

PAGES = ["/support", "/c/big", "/widget/big", "/widget/big.svg", "/api/v1/campaigns/big", "/admin/",
         "/admin/donations", "/admin/donations?status=pending", "/admin/donations?source=manual",
         "/admin/donations?campaign={id}", "/admin/donations?campaign={id}&status=pending",
         "/admin/donations?date_from=2026-01-01&date_to=2026-01-31", "/admin/audit", "/admin/campaigns",
         "/admin/campaigns/big"]

#: Downloads that read every gift: a scan of the ledger in its own order is what they are, a
#: sort of it or a statement per row is not.
EXPORTS = ["/admin/donations/export.csv", "/admin/donations/export.csv?campaign={id}"]


def add_gifts(engine: Any, campaign_id: int, count: int, start: int) -> None:
    now = utcnow()
    rows = []
    for index in range(start, start + count):
        status = "pending" if index % 97 == 0 else "confirmed"
        minor = 100 + index % 5000
        rows.append(dict(uid=uuid.uuid4().hex, campaign_id=campaign_id, amount_minor=minor, currency="USD",
                         goal_amount_minor=minor, goal_currency="USD", source="import", external_id=f"s{index}",
                         status=status, donor_name=f"Reader {index}", message=None, is_public=index % 3 == 0,
                         reason="", received_at=now - timedelta(minutes=index), period_start=now,
                         recorded_at=now, updated_at=now))
    with engine.begin() as connection:
        for first in range(0, len(rows), 5000):
            connection.execute(insert(Donation), rows[first:first + 5000])


def record(app: Any, client: Any, url: str) -> list[tuple[str, Any]]:
    engine = app.extensions["tracker_engine"]
    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def plan(engine: Any, statement: str, parameters: Any) -> str:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        cursor = raw.cursor()
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        cursor.execute(explain + statement, parameters)
        rows = cursor.fetchall()
        cursor.close()
        connection.rollback()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def ledger_read_problems(engine: Any, url: str, statements: list[tuple[str, Any]], *,
                         whole: bool = False) -> list[str]:
    """Statements reading the ledger that sort it or (unless `whole`: an export) scan all of it."""
    problems = []
    for statement, parameters in statements:
        if not re.search(r"\bFROM donation\b", statement):
            continue
        explained = plan(engine, statement, parameters)
        if engine.dialect.name == "sqlite":
            scans_all = re.search(r"SCAN donation(?! USING)", explained)
            sorts = "USE TEMP B-TREE FOR ORDER BY" in explained
        else:
            scans_all = "Seq Scan on donation" in explained
            # A sort of the few rows a filter matches is fine; a sort of the ledger is not.
            sorts = any(int(rows) > 100 for rows in re.findall(r"Sort  \(cost=[\d.]+ rows=(\d+)", explained))
        if (scans_all and not whole) or sorts:
            problems.append(f"{url}: {statement[:160]}…\n{explained}")
    return problems


def test_every_page_reads_indexes_in_order_and_sends_no_query_per_row(app, auth, client, session, make_campaign):
    campaign = make_campaign("big", period="monthly", status="active")
    auth.login(role="owner")
    engine = app.extensions["tracker_engine"]
    urls = [url.format(id=campaign.id) for url in PAGES + EXPORTS]
    exports = {url.format(id=campaign.id) for url in EXPORTS}

    add_gifts(engine, campaign.id, 1000, 0)
    with session.begin():
        rebuild_totals(session, get_campaign(session, "big"))
    small = {url: len(record(app, client, url)) for url in urls}

    add_gifts(engine, campaign.id, 19_000, 1000)
    with session.begin():
        rebuild_totals(session, get_campaign(session, "big"))
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE donation"))
    problems = []
    for url in urls:
        statements = record(app, client, url)
        if len(statements) > small[url]:
            problems.append(f"{url}: {len(statements)} statements at 20,000 gifts, {small[url]} at 1,000")
        problems += ledger_read_problems(engine, url, statements, whole=url in exports)
    assert problems == [], "\n\n".join(problems)


def test_the_plan_check_would_see_a_sort_of_the_ledger(app, make_campaign):
    """The check itself: an ORDER BY no index covers is reported."""
    campaign = make_campaign("big")
    engine = app.extensions["tracker_engine"]
    add_gifts(engine, campaign.id, 200, 0)
    bad = ("SELECT donation.id FROM donation ORDER BY donation.donor_name LIMIT 5", ())
    if engine.dialect.name == "postgresql":
        bad = ("SELECT donation.id FROM donation ORDER BY donation.donor_name LIMIT 5", None)
    assert ledger_read_problems(engine, "/probe", [bad]) != []
    assert CLI.name == "cli"
