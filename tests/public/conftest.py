"""Fixtures of the public-page tests: the demo site with its payment methods."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tracker.demo import load_demo
from tracker.models import PaymentMethod


@pytest.fixture()
def demo_site(session: Any) -> SimpleNamespace:
    """The demo data (campaign `demo`, BTC and BCH addresses, a contact e-mail), committed."""
    campaign = load_demo(session)
    session.commit()
    methods = {m.coin: m for m in session.scalars(select(PaymentMethod))}
    return SimpleNamespace(campaign=campaign, btc=methods["BTC"], bch=methods["BCH"], email=methods["email"])
