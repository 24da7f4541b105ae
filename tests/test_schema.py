"""Migrations are the only way the schema changes: the migrated database matches the models."""

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
