"""Migrations are the only way the schema changes: the migrated database matches the models."""

import os
import uuid

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tracker import schema


def test_models_and_migration_head_agree(engine):
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.differences(engine) == []


def test_check_constraints_exist_in_the_database(engine):
    names = {c["name"] for c in inspect(engine).get_check_constraints("donation")}
    assert {"ck_donation_amount_sign", "ck_donation_status_known", "ck_donation_conversion_explained"} <= names


@pytest.mark.parametrize("sql", [
    # A negative goal.
    "INSERT INTO campaign (slug, title, description, currency, target_minor, period, timezone, status,"
    " display, created_at, updated_at) VALUES ('x', 'X', '', 'USD', -5, 'once', 'UTC', 'active', '{}',"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    # An unknown period.
    "INSERT INTO campaign (slug, title, description, currency, target_minor, period, timezone, status,"
    " display, created_at, updated_at) VALUES ('x', 'X', '', 'USD', 5, 'weekly', 'UTC', 'active', '{}',"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
])
def test_the_database_itself_refuses_what_must_never_be(clean_db, sql):
    with pytest.raises(IntegrityError):
        with clean_db.begin() as connection:
            connection.execute(text(sql))


@pytest.mark.parametrize("amount, currency, goal", [
    (-100, "USD", -100),  # a negative donation (only adjustments may be negative)
    (0, "USD", 0),        # a zero donation
    (100, "BTC", 100),    # a converted amount without the rate that explains it
])
def test_the_database_refuses_a_donation_that_must_never_be(session, make_campaign, amount, currency, goal):
    campaign = make_campaign()
    with pytest.raises(IntegrityError):
        session.execute(text(
            "INSERT INTO donation (uid, campaign_id, amount_minor, currency, goal_amount_minor, goal_currency,"
            " source, status, is_public, reason, received_at, period_start, recorded_at, updated_at) VALUES"
            " ('u1', :c, :amount, :currency, :goal, 'USD', 'manual', 'confirmed', false, '', CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"c": campaign.id, "amount": amount, "currency": currency, "goal": goal})
    session.rollback()


def test_migration_0004_fills_the_day_totals_of_an_existing_ledger(tmp_path):
    """An upgrade keeps the dashboard right for gifts recorded before day totals existed."""
    from tracker.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO campaign (id, slug, title, description, currency, target_minor, period, timezone, status,"
            " display, created_at, updated_at) VALUES (1, 'c', 'C', '', 'USD', 500, 'once', 'Europe/Berlin',"
            " 'active', '{}', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"))
        for uid, amount, at, source, reason in (("a" * 32, 100, "2026-11-02 22:30:00", "manual", ""),
                                                ("b" * 32, 50, "2026-11-02 23:30:00", "manual", ""),
                                                ("c" * 32, -20, "2026-11-02 10:00:00", "adjustment", "fix")):
            connection.execute(text(
                "INSERT INTO donation (uid, campaign_id, amount_minor, currency, goal_amount_minor, goal_currency,"
                " source, status, is_public, reason, received_at, period_start, recorded_at, updated_at)"
                " VALUES (:uid, 1, :a, 'USD', :a, 'USD', :s, 'confirmed', 0, :r, :at, '1970-01-01 00:00:00',"
                " :at, :at)"), {"uid": uid, "a": amount, "s": source, "r": reason, "at": at})
    schema.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT day, gifts_minor, gift_count, adjusted_minor FROM day_total ORDER BY day")).all()
    engine.dispose()
    # 22:30 UTC is still 2 November in Berlin (UTC+1); 23:30 UTC is already the 3rd.
    assert [tuple(r) for r in rows] == [("2026-11-02", 100, 1, -20), ("2026-11-03", 50, 1, 0)]


PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def empty_url(request, tmp_path):
    """A database with no tables yet, for a migration test: a SQLite file or a PostgreSQL schema."""
    from tracker.db import make_engine

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"migrate_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{name}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def test_migration_0009_adds_translations_and_takes_them_back_keeping_the_rows(empty_url):
    """Campaigns and milestones of 0008 get "{}" (no translation); a downgrade keeps them, milestones too."""
    from alembic import command

    from tracker.db import make_engine

    engine = make_engine(empty_url)
    schema.upgrade(engine, "0008")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO campaign (id, slug, title, description, currency, target_minor, period, timezone, status,"
            " display, created_at, updated_at) VALUES (1, 'c', 'C', '', 'USD', 500, 'once', 'UTC',"
            " 'active', '{}', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"))
        connection.execute(text("INSERT INTO milestone (id, campaign_id, amount_minor, label) VALUES (1, 1, 250, 'Half')"))
    schema.upgrade(engine)
    assert {c["name"] for c in inspect(engine).get_columns("milestone")} >= {"translations"}
    with engine.begin() as connection:
        stored = connection.execute(text("SELECT translations FROM campaign")).scalar_one()
        assert stored in ("{}", {})
        connection.execute(text("UPDATE milestone SET translations = :t"), {"t": '{"de": {"label": "Hälfte"}}'})
    config = schema.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    inspector = inspect(engine)
    assert "translations" not in {c["name"] for c in inspector.get_columns("campaign")}
    assert "translations" not in {c["name"] for c in inspector.get_columns("milestone")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT label FROM milestone")).scalars().all() == ["Half"]
    schema.upgrade(engine)
    assert schema.differences(engine) == []
    engine.dispose()


def test_migration_0011_fills_the_article_totals_from_the_ledger(empty_url):
    """Confirmed gifts with an article are summed per article and period; the totals then agree with the ledger."""
    from tracker.campaigns.operations import get_campaign
    from tracker.db import make_engine, make_sessionmaker
    from tracker.donations.by_article import by_article
    from tracker.donations.ledger import verify_totals

    engine = make_engine(empty_url)
    schema.upgrade(engine, "0010")
    gifts = [("a", 1000, "one", "confirmed", "chain"), ("b", 500, "one", "confirmed", "stripe"),
             ("c", 700, "two", "pending", "chain"), ("d", 300, None, "confirmed", "manual"),
             ("e", 200, "two", "refunded", "chain")]
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO campaign (id, slug, title, description, currency, target_minor, period, timezone, status,"
            " display, translations, created_at, updated_at) VALUES (1, 'c', 'C', '', 'USD', 5000, 'once', 'UTC',"
            " 'active', '{}', '{}', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"))
        for index, (key, minor, ref, status, source) in enumerate(gifts, start=1):
            connection.execute(text(
                "INSERT INTO donation (id, uid, campaign_id, amount_minor, currency, goal_amount_minor, goal_currency,"
                " source, external_id, status, is_public, reason, ref, recurring, received_at, period_start,"
                " recorded_at, updated_at) VALUES (:id, :uid, 1, :minor, 'USD', :minor, 'USD', :source, :key,"
                " :status, false, '', :ref, false, '2026-11-02 10:00:00', '1970-01-01 00:00:00',"
                " '2026-11-02 10:00:00', '2026-11-02 10:00:00')"),
                {"id": index, "uid": f"{index:032x}", "minor": minor, "source": source, "key": key,
                 "status": status, "ref": ref})
    schema.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        campaign = get_campaign(session, "c")
        assert [(row.ref, row.gifts, row.total.minor) for row in by_article(session, campaign)] == [("one", 2, 1500)]
        # The period and day totals were not made for these hand-inserted rows; the article totals were.
        assert [problem for problem in verify_totals(session, campaign) if "article" in problem] == []
    engine.dispose()
