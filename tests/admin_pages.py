"""Every back-office page with data to show: for the markup checks and the browser checks."""

from __future__ import annotations

import re
from typing import Any, Iterator

from factories import PASSWORD, PASSWORD_HASH
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.demo import load_demo
from tracker.models import Donation, PaymentMethod, User

#: Pages that need more than the demo data (a webhook, a delivery, an inbox event) or answer a file.
SKIPPED_ENDPOINTS = {"admin.logout", "admin.donations_export", "admin.login_code"}
OWNER = "owner@example.org"


def load_site(session: Session) -> dict[str, Any]:
    """The demo data and an owner, committed; the ids admin URLs are filled with."""
    campaign = load_demo(session)
    owner = User(email=OWNER, password_hash=PASSWORD_HASH, role="owner")
    session.add(owner)
    session.commit()
    donation = session.scalars(select(Donation).order_by(Donation.id)).first()
    method = session.scalars(select(PaymentMethod).order_by(PaymentMethod.id)).first()
    assert donation is not None and method is not None
    return {"slug": campaign.slug, "donation_id": donation.id, "method_id": method.id, "user_id": owner.id}


def sign_in(client: Any) -> None:
    """Sign the owner in through the real form, with its CSRF token when the app checks them."""
    page = client.get("/admin/login").data
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": OWNER, "password": PASSWORD}
    if match:
        data["csrf_token"] = match.group(1).decode()
    response = client.post("/admin/login", data=data)
    assert response.status_code == 302, response.data[:500]


def admin_paths(app: Any, values: dict[str, Any]) -> Iterator[str]:
    """The path of every GET page in /admin whose URL values the demo data can fill."""
    seen = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("admin.") or "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        if not set(rule.arguments) <= set(values):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{name}>", str(values[name]), path)
        if path not in seen:
            seen.add(path)
            yield path
