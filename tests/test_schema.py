"""Migrations are the only way the schema changes: the migrated database matches the models."""

from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
import pytest

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


def test_a_negative_donation_is_refused_by_the_database(session, make_campaign):
    campaign = make_campaign()
    with pytest.raises(IntegrityError):
        session.execute(text(
            "INSERT INTO donation (uid, campaign_id, amount_minor, currency, goal_amount_minor, goal_currency,"
            " source, status, is_public, reason, received_at, period_start, recorded_at, updated_at) VALUES"
            " ('u1', :c, -100, 'USD', -100, 'USD', 'manual', 'confirmed', false, '', CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"c": campaign.id})
    session.rollback()


def test_a_foreign_currency_donation_without_its_rate_is_refused_by_the_database(session, make_campaign):
    campaign = make_campaign()
    with pytest.raises(IntegrityError):
        session.execute(text(
            "INSERT INTO donation (uid, campaign_id, amount_minor, currency, goal_amount_minor, goal_currency,"
            " source, status, is_public, reason, received_at, period_start, recorded_at, updated_at) VALUES"
            " ('u2', :c, 100, 'BTC', 100, 'USD', 'manual', 'confirmed', false, '', CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"c": campaign.id})
    session.rollback()
