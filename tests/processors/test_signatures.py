"""Signature checks against the processors' own reference code, and the renewal calendar (no database)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import stripe
from processor_helpers import STANDARD_SECRET, STRIPE_PREVIOUS, STRIPE_SECRET, standard_headers, stripe_headers
from standardwebhooks import Webhook, WebhookVerificationError

from tracker.config import ProcessorSettings
from tracker.processors import standard
from tracker.processors import stripe as stripe_hook
from tracker.processors.common import Refused
from tracker.processors.github import months_after

BODY = json.dumps({"id": "evt_1", "object": "event", "type": "charge.refunded", "data": {"object": {}}})



def ours(check, *args) -> bool:
    try:
        check(*args)
    except Refused:
        return False
    return True


def stripes(header: str, secret: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(BODY, header, secret, tolerance=300)
    except stripe.SignatureVerificationError:
        return False
    return True


@pytest.mark.parametrize("header_secret, age", [
    (STRIPE_SECRET, 0), ("whsec_someone_else", 0), (STRIPE_SECRET, 310), (STRIPE_SECRET, 290)])
def test_stripe_signatures_are_judged_as_stripe_judges_them(header_secret, age):
    now = datetime.now(timezone.utc)
    header = stripe_headers(BODY, secret=header_secret, timestamp=int(now.timestamp()) - age)["Stripe-Signature"]
    config = ProcessorSettings(webhook_secret=STRIPE_SECRET)
    accepted = ours(stripe_hook.verify, {"Stripe-Signature": header}, BODY.encode(), config, now)
    assert accepted == stripes(header, STRIPE_SECRET)


def test_a_rolled_stripe_secret_is_still_accepted_until_it_is_removed():
    header = stripe_headers(BODY, secret=STRIPE_PREVIOUS)["Stripe-Signature"]
    rotating = ProcessorSettings(webhook_secret=STRIPE_SECRET, previous_secret=STRIPE_PREVIOUS)
    delivery = stripe_hook.verify({"Stripe-Signature": header}, BODY.encode(), rotating, datetime.now(timezone.utc))
    assert delivery.signature == "previous"
    assert not ours(stripe_hook.verify, {"Stripe-Signature": header}, BODY.encode(),
                    ProcessorSettings(webhook_secret=STRIPE_SECRET), datetime.now(timezone.utc))


@pytest.mark.parametrize("minutes, secret", [
    (0, STANDARD_SECRET), (-4, STANDARD_SECRET), (-6, STANDARD_SECRET), (6, STANDARD_SECRET),
    (0, "whsec_" + "c29tZW9uZSBlbHNlJ3Mgc2VjcmV0")])
def test_standard_webhooks_are_judged_as_the_reference_library_judges_them(minutes, secret):
    when = datetime.now(timezone.utc) + timedelta(minutes=minutes)
    headers = standard_headers(BODY, msg_id="msg_2", when=when, secret=secret)
    try:
        Webhook(STANDARD_SECRET).verify(BODY, headers)
        reference = True
    except WebhookVerificationError:
        reference = False
    config = ProcessorSettings(webhook_secret=STANDARD_SECRET)
    assert ours(standard.verify, headers, BODY.encode(), config, datetime.now(timezone.utc)) == reference


def test_a_standard_signature_header_may_carry_several_signatures():
    headers = standard_headers(BODY, msg_id="msg_3")
    headers["webhook-signature"] = "v1,bm90IGl0 v2,whatever " + headers["webhook-signature"]
    config = ProcessorSettings(webhook_secret=STANDARD_SECRET)
    assert standard.verify(headers, BODY.encode(), config, datetime.now(timezone.utc)).event_id == "msg_3"


def test_monthly_renewals_fall_on_the_anniversary_or_the_months_last_day():
    start = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
    months = months_after(start, datetime(2026, 5, 1, tzinfo=timezone.utc))
    assert [m.date().isoformat() for m in months] == ["2026-02-28", "2026-03-31", "2026-04-30"]
    assert months_after(start, start) == []
    december = months_after(datetime(2025, 12, 5, tzinfo=timezone.utc), datetime(2026, 1, 5, tzinfo=timezone.utc))
    assert [m.date().isoformat() for m in december] == ["2026-01-05"]
