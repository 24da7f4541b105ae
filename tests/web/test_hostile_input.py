"""Hostile input on every route: never a 500, nothing half-saved, nothing reflected raw, JSON stays JSON.

The sweep walks `app.url_map`, so a route added later is swept without anyone remembering to.
Each rule is requested with hostile path values, hostile query strings and (for POST rules)
form bodies where one field at a time is replaced by a hostile value. Every answer is checked;
the failures are gathered and reported together, one line each, with the request that caused it.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

import pytest
from factories import CLI, PASSWORD
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import create_app
from tracker.demo import load_demo
from tracker.donations.ledger import record_donation
from tracker.models import (
    Base,
    Campaign,
    InboundEvent,
    OutboxEvent,
    PaymentMethod,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from tracker.money import Money
from tracker.webhooks.signing import new_secret

# Slow (the sweep sends thousands of requests); CI runs it with the rest: `pytest -m 'not slow'` leaves it out locally.
pytestmark = pytest.mark.slow

OWNER = "owner@example.org"
SITE = "http://127.0.0.1:5000"
#: A valid mainnet address other than the demo's (Base58Check).
BTC_NEW = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"

#: What a donor may type; every page, image, JSON document and CSV must carry it inert.
HOSTILE_NAME = '<script>alert("name")</script> "Quoted" & Co'
HOSTILE_MESSAGE = '"><svg onload=alert(1)> </textarea><script>alert("msg")</script>'

SCRIPT = "<script>alert(1)</script>"
SVG_ONLOAD = "<svg onload=alert(1)>"
#: Breaking out of an attribute (`theme=x"`) or a style rule (`accent=red;}`).
ATTRIBUTE_BREAK = 'x" onmouseover="hostile()'
STYLE_BREAK = "red;}body{background:url(hostile)}"
#: Raw markers that must never reach an HTML or SVG body, whatever came in.
RAW_MARKERS = ("<script>alert", "<svg onload", 'onmouseover="hostile', "url(hostile)")

BIG = 2**70
LONG = "x" * 10_240

# --- what is sent ------------------------------------------------------------------------

#: Values put in place of each path converter (raw URL text: already percent-encoded).
PATH_VALUES = {
    "int": [str(BIG), "99999999999999999999", str(2**31), str(2**63), "0", "-1", "00001", "1.5", "abc", "%00"],
    "default": ["no-such-slug", "%C3%BCn%C3%AFc%C3%B6de", "%00", "a%00b", "x" * 5000,
                "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "DEMO", "demo%20", "%F0%9F%92%A5", "-1", str(BIG), "%E2%80%AE"],
    "path": ["../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "%00", "no/such/file.css", "x" * 5000],
}

#: Query strings: each entry is one request's parameters (a list of pairs, so names can repeat).
QUERIES: list[list[tuple[str, str]]] = [[pair] for pair in [
    ("page", "-1"), ("page", "0"), ("page", "abc"), ("page", "99999999999999999999"), ("page", "1.5"),
    ("page", "\u0663"), ("page", "\x00"), ("page", LONG),
    ("amount", "1e400"), ("amount", "NaN"), ("amount", "0x10"), ("amount", "-1"), ("amount", "Infinity"),
    ("amount", "12.345678901234"), ("amount", "0.00000001"), ("amount", LONG), ("amount", "\x00"),
    ("locale", "../../etc"), ("locale", SCRIPT), ("locale", "de_DE"), ("locale", "zz-ZZ"), ("locale", "\x00"),
    ("variant", SVG_ONLOAD), ("variant", LONG), ("theme", 'x"'), ("theme", ATTRIBUTE_BREAK),
    ("accent", "red;}"), ("accent", STYLE_BREAK), ("accent", "#12345g"), ("accent", "%23ff0000"),
    ("url", "javascript:alert(1)"), ("url", f"{SITE}/c/{SCRIPT}"), ("url", f"{SITE}/widget/demo?variant={SVG_ONLOAD}"),
    ("url", "http://evil.example/c/demo"), ("url", LONG), ("url", "\x00"),
    ("format", "xml"), ("format", SCRIPT), ("maxwidth", "-5"), ("maxwidth", "99999999999999999999"),
    ("maxheight", "abc"), ("maxheight", "\u0663"),
    ("campaign", str(BIG)), ("campaign", "-1"), ("campaign", "abc"), ("campaign", SCRIPT), ("campaign", "\x00"),
    ("next", "//evil.example/"), ("next", "javascript:alert(1)"), ("next", "/\\evil.example"), ("next", SCRIPT),
    ("status", "deleted"), ("source", SCRIPT), ("date_from", "2026-13-45"), ("date_to", "0000-00-00"),
    ("date_from", "9999-12-31"), ("date_to", "9999-12-31"), ("date_to", "0001-01-01"), ("entity", SCRIPT),
    ("action", "%_\\"),
    ("actor", SCRIPT), ("actor", "\x00"), ("action", "\x00"),
]] + [
    [("page", "1"), ("page", "abc")],
    [("amount", "0.001"), ("amount", "1e400")],
    [("locale", "de"), ("locale", SCRIPT)],
    [("variant", "compact"), ("variant", SVG_ONLOAD), ("theme", "dark"), ("theme", ATTRIBUTE_BREAK)],
    [("campaign", "1"), ("campaign", str(BIG))],
]

#: Field kinds of the admin forms and the hostile values each kind is swept with.
MONEY, TEXT, DATE, CHOICE, FLAG, ID, SECRET = "money", "text", "date", "choice", "flag", "id", "secret"
#: Amounts that must be refused, never rounded or guessed at (USD has two places).
BAD_AMOUNTS = ["12,50", "1e3", "-5", "12.345", "1e400", "NaN", "Infinity", "0x10", "", "   ", LONG, "1" * 40,
               "\x00", "12.5.0", "$12", "12 50"]
#: Rates may have many places, but no exponent, sign, NaN or comma.
BAD_RATES = ["12,50", "1e3", "-5", "0", "1e400", "NaN", "Infinity", "0x10", "", LONG, "\x00"]
HOSTILE = {
    TEXT: ["", LONG, SCRIPT, HOSTILE_MESSAGE, "\x00", "a\x00b", "\u202e\U0001f4a5" * 50, "=cmd|' /C calc'!A0"],
    DATE: ["2026-13-45T99:99", "0000-00-00T00:00", "0001-01-01T00:00", "9999-12-31T23:59", "yesterday",
           "2026-01-02", "", "\x00", LONG],
    CHOICE: ["nope", SCRIPT, "", "99999999999999999999", "-1", str(BIG), "\x00"],
    FLAG: ["maybe", LONG, "\x00"],
    ID: [str(BIG), "99999999999999999999", "-1", "abc", "1.5", "", "\x00", "0"],
    SECRET: ["", LONG, "\x00", "000000", "12345678901234567890"],
}

# --- the world the sweep runs in ---------------------------------------------------------


@pytest.fixture()
def app(clean_db: Any, settings_factory: Callable[..., Any]) -> Iterator[Any]:
    """The usual test app (CSRF off), with password-check limits high enough for a sweep."""
    # The sweep sends hundreds of wrong passwords; with the real limit every later request
    # would only meet the limiter (a 429) and the views behind it would go unswept.
    app = create_app(settings_factory(**{"security.login_rate_limit": "100000 per minute"}))
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.extensions["tracker_engine"].dispose()


@pytest.fixture()
def world(app: Any, app_session: Session, make_user: Callable[..., User]) -> SimpleNamespace:
    """Demo data, a public donation with a hostile name and message, and an owner account."""
    campaign = load_demo(app_session)
    hostile = record_donation(app_session, campaign, Money.parse("12.50", "USD"), actor=CLI,
                              external_id="hostile-1", donor_name=HOSTILE_NAME, message=HOSTILE_MESSAGE,
                              is_public=True).donation
    pending = record_donation(app_session, campaign, Money.parse("7", "USD"), actor=CLI, external_id="pending-1",
                              status="pending").donation
    # A processor's event that waits for the admin (its campaign does not exist), for "process again".
    inbound = InboundEvent(processor="standard", event_id="msg_sweep", event_type="gift", subject="sweep-1",
                           body=b'{"id": "sweep-1", "campaign": "nowhere", "amount": "5", "currency": "USD"}',
                           signature="current", state="needs_attention", reason="there is no campaign 'nowhere'")
    app_session.add(inbound)
    app_session.commit()
    owner = make_user(OWNER, role="owner")
    btc = app_session.scalar(select(PaymentMethod).where(PaymentMethod.coin == "BTC"))
    assert btc is not None
    endpoint = WebhookEndpoint(url="https://203.0.113.9/in", events="donation.recorded", secret=new_secret(),
                               description=HOSTILE_NAME)
    app_session.add(endpoint)
    app_session.flush()
    event = app_session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).first()
    assert event is not None
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, message_id="msg_world", state="failed")
    app_session.add(delivery)
    app_session.commit()
    return SimpleNamespace(campaign_id=campaign.id, slug=campaign.slug, donation_id=hostile.id,
                           pending_id=pending.id, method_id=btc.id, owner_id=owner.id, endpoint_id=endpoint.id,
                           delivery_id=delivery.id, inbound_id=inbound.id)


def valid_path_values(world: SimpleNamespace) -> dict[str, str]:
    return {"slug": world.slug, "method_id": str(world.method_id), "donation_id": str(world.donation_id),
            "user_id": str(world.owner_id), "filename": "css/public.css", "endpoint_id": str(world.endpoint_id),
            "delivery_id": str(world.delivery_id), "event_id": str(world.inbound_id)}


#: Per POST endpoint: the fields with their kinds, and a body that gets as far as the domain code.
def post_forms(world: SimpleNamespace) -> dict[str, tuple[dict[str, str], dict[str, Any]]]:
    campaign = str(world.campaign_id)
    milestone = {"milestones-0-amount": MONEY, "milestones-0-label": TEXT}
    return {
        "admin.login": ({"email": TEXT, "password": SECRET, "next": TEXT},
                        {"email": OWNER, "password": "wrong password", "next": "/admin/"}),
        "admin.login_code": ({"code": SECRET, "next": TEXT}, {"code": "123456", "next": "/admin/"}),
        "admin.logout": ({}, {}),
        "admin.account_password": (
            {"current_password": SECRET, "new_password": SECRET, "new_password_again": SECRET},
            # The same password again: a body that gets through leaves the account as it was.
            {"current_password": PASSWORD, "new_password": PASSWORD, "new_password_again": PASSWORD}),
        "admin.account_sign_out_everywhere": ({}, {}),
        "admin.account_two_factor": ({"code": SECRET}, {"code": "123456"}),
        "admin.account_two_factor_off": ({"password": SECRET, "code": SECRET},
                                         {"password": PASSWORD, "code": "123456"}),
        "admin.campaign_new": (
            {"slug": TEXT, "title": TEXT, "description": TEXT, "target": MONEY, "currency": CHOICE,
             "period": CHOICE, "timezone": CHOICE, "starts_at": DATE, "ends_at": DATE, "status": CHOICE,
             "theme": CHOICE, "accent": TEXT, "show_donors": FLAG, **milestone},
            {"slug": "sweep", "title": "Sweep", "description": "", "target": "100", "currency": "USD",
             "period": "monthly", "timezone": "Pacific/Kiritimati", "starts_at": "2026-01-01T00:00",
             "ends_at": "", "status": "draft", "theme": "light", "accent": "#112233", "show_donors": "y",
             "milestones-0-amount": "10", "milestones-0-label": "ten"}),
        "admin.campaign_edit": (
            {"slug": TEXT, "title": TEXT, "description": TEXT, "target": MONEY, "currency": CHOICE,
             "period": CHOICE, "timezone": CHOICE, "starts_at": DATE, "ends_at": DATE, "status": CHOICE,
             "theme": CHOICE, "accent": TEXT, **milestone},
            {"slug": world.slug, "title": "Demo", "description": "", "target": "5000", "currency": "USD",
             "period": "monthly", "timezone": "Europe/Berlin", "starts_at": "", "ends_at": "",
             "status": "active", "theme": "light", "accent": "#112233", "show_donors": "y",
             "milestones-0-amount": "2500", "milestones-0-label": "half"}),
        "admin.campaign_status": ({"status": CHOICE}, {"status": "active"}),
        "admin.campaign_raised_to": ({"amount": MONEY, "reason": TEXT}, {"amount": "2200", "reason": "sweep"}),
        "admin.donation_new": (
            {"campaign": ID, "amount": MONEY, "currency": CHOICE, "received_at": DATE, "status": CHOICE,
             "donor_name": TEXT, "message": TEXT, "is_public": FLAG, "reference": TEXT, "form_key": TEXT,
             "shown_rate": TEXT},
            {"campaign": campaign, "amount": "10", "currency": "USD", "received_at": "2026-01-02T03:04",
             "status": "confirmed", "donor_name": "n", "message": "m", "is_public": "y", "reference": "",
             "form_key": "sweep", "shown_rate": ""}),
        "admin.donation": (
            {"amount": MONEY, "currency": CHOICE, "received_at": DATE, "donor_name": TEXT, "message": TEXT,
             "is_public": FLAG, "reason": TEXT},
            {"amount": "12.50", "currency": "USD", "received_at": "2026-01-02T03:04", "donor_name": HOSTILE_NAME,
             "message": HOSTILE_MESSAGE, "is_public": "y", "reason": "sweep"}),
        "admin.donation_refund": ({"reason": TEXT}, {"reason": ""}),
        "admin.donation_confirm": ({}, {}),
        "admin.connection_event_process": ({}, {}),
        "admin.donations_import_preview": ({"file": "file"}, {}),
        "admin.donations_import_confirm": ({"payload": TEXT, "signature": TEXT},
                                           {"payload": "Y2FtcGFpZ24K", "signature": "0" * 64}),
        "admin.payment_method_new": (
            {"kind": CHOICE, "coin": CHOICE, "network": CHOICE, "target": TEXT, "label": TEXT, "active": FLAG,
             "password": SECRET, "code": SECRET, "confirmed": TEXT},
            {"kind": "address", "coin": "BTC", "network": "mainnet", "target": BTC_NEW, "label": "x",
             "active": "y", "password": "wrong password", "code": "", "confirmed": "1"}),
        "admin.payment_method_edit": (
            {"kind": CHOICE, "coin": CHOICE, "network": CHOICE, "target": TEXT, "label": TEXT, "active": FLAG,
             "password": SECRET, "code": SECRET, "confirmed": TEXT},
            {"kind": "address", "coin": "BTC", "network": "mainnet", "target": BTC_NEW, "label": "x",
             "active": "y", "password": "wrong password", "code": "", "confirmed": "1"}),
        "admin.payment_method_move": ({"direction": CHOICE, "password": TEXT}, {"direction": "1", "password": PASSWORD}),
        "admin.payment_method_toggle": ({"password": TEXT}, {"password": PASSWORD}),
        "admin.rate_add": ({"base": CHOICE, "quote": CHOICE, "rate": "rate", "as_of": DATE, "source": TEXT},
                           {"base": "BTC", "quote": "EUR", "rate": "55000.5", "as_of": "2026-01-02T03:04",
                            "source": "sweep"}),
        "admin.webhook_add": ({"url": TEXT, "description": TEXT, "events": CHOICE},
                              {"url": "https://203.0.113.10/more", "description": "sweep",
                               "events": "donation.recorded"}),
        "admin.webhook_toggle": ({}, {}),
        "admin.webhook_delete": ({}, {}),
        "admin.webhook_resend": ({}, {}),
        "admin.user_create": ({"email": TEXT, "password": SECRET, "role": CHOICE},
                              {"email": "new@example.org", "password": "a long enough password", "role": "viewer"}),
        "admin.user_update": ({"role": CHOICE, "active": CHOICE}, {"role": "owner", "active": "1"}),
    }


#: Endpoints whose valid body is accepted (a redirect): the hostile bodies start from one that reaches the domain.
ACCEPTS_VALID_BODY = {"admin.campaign_new", "admin.campaign_edit", "admin.campaign_raised_to", "admin.donation_new",
                      "admin.donation", "admin.rate_add", "admin.user_create", "admin.user_update",
                      "admin.payment_method_move", "admin.payment_method_toggle", "admin.account_password"}
#: Values that must stay unique between requests, or every body after the first is refused as a duplicate.
UNIQUE = {"slug": "sweep", "form_key": "sweep", "email": "new@example.org", "source": "sweep"}


def freshen(body: dict[str, Any], number: int) -> dict[str, Any]:
    """`body` with its unique values numbered, so each request is judged on its own hostile value."""
    return {name: f"{value}-{number}" if UNIQUE.get(name) == value else value for name, value in body.items()}


#: Endpoints after which the sweep signs in again (they end the session on purpose).
ENDS_SESSION = {"admin.logout", "admin.account_sign_out_everywhere", "admin.account_password"}
#: Admin endpoints anyone may reach (the sign-in steps).
PUBLIC_ADMIN = {"admin.login", "admin.login_code"}
#: Routes that answer JSON, errors included.
JSON_ENDPOINTS = {"api.campaigns", "api.campaign", "api.openapi", "widget.oembed"}

# --- checking the answers ----------------------------------------------------------------


@dataclass
class Sweep:
    """Sends requests, checks each answer, and keeps every failure for one report at the end."""

    app: Any
    client: Any
    session: Session
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    rules: set[str] = field(default_factory=set)

    def fingerprint(self) -> str:
        """A digest of every row of every table: equal before and after means nothing was written."""
        self.session.rollback()
        self.session.expire_all()
        digest = hashlib.sha256()
        for table in Base.metadata.sorted_tables:
            if table.name == "users":
                # Signing in stamps last_login_at; a refused request must change nothing else.
                columns = [c for c in table.c if c.name != "last_login_at"]
            else:
                columns = list(table.c)
            rows = self.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            digest.update(repr((table.name, rows)).encode())
        self.session.rollback()
        return digest.hexdigest()

    def send(self, rule: Any, method: str, url: str, *, data: Any = None, note: str = "",
             must_refuse: bool = False, signed_in: bool = True) -> Any:
        self.requests += 1
        self.rules.add(f"{method} {rule.rule}")
        before = self.fingerprint() if method == "POST" else None
        label = f"{method} {url[:160]}" + (f" [{note[:120]}]" if note else "")
        try:
            response = (self.client.get(url) if method == "GET" else
                        self.client.post(url, data=data, content_type="multipart/form-data"
                                         if isinstance(data, dict) and "file" in data else None))
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a finding too
            self.failures.append(f"{label}: raised {type(exc).__name__}: {exc}")
            return None
        try:
            self.check(rule, label, response, signed_in=signed_in)
        finally:
            response.close()
        if before is not None:
            changed = self.fingerprint() != before
            if response.status_code >= 400 and changed:
                self.failures.append(f"{label}: refused with {response.status_code} but the database changed")
            if must_refuse and (changed or response.status_code in (200, 302, 303)):
                self.failures.append(f"{label}: a bad amount was accepted ({response.status_code}, "
                                     f"database {'changed' if changed else 'unchanged'})")
        return response

    def check(self, rule: Any, label: str, response: Any, *, signed_in: bool) -> None:
        status, mimetype = response.status_code, response.mimetype or ""
        if status >= 500 and not (rule.endpoint == "widget.oembed" and status == 501 and "format" in label):
            self.failures.append(f"{label}: {status}")
        if mimetype in ("text/html", "image/svg+xml"):
            body = response.get_data(as_text=True)
            for marker in RAW_MARKERS:
                if marker in body:
                    self.failures.append(f"{label}: raw {marker!r} in the {mimetype} body")
        if rule.endpoint in JSON_ENDPOINTS and status != 304 and mimetype != "application/json":
            self.failures.append(f"{label}: a JSON route answered {status} as {mimetype!r}")
        if not rule.rule.startswith("/admin") and "Set-Cookie" in response.headers:
            self.failures.append(f"{label}: a public page set a cookie")
        if rule.rule.startswith("/admin") and rule.endpoint not in PUBLIC_ADMIN | ENDS_SESSION:
            location = response.headers.get("Location", "")
            if signed_in and "/admin/login" in location:
                self.failures.append(f"{label}: the signed-in owner was sent to the sign-in page")
            if not signed_in and status < 400 and "/admin/login" not in location:
                self.failures.append(f"{label}: reached without signing in ({status})")

    def report(self) -> None:
        assert not self.failures, f"{len(self.failures)} of {self.requests} requests failed:\n" + "\n".join(
            self.failures[:80])


_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def build_path(rule: Any, values: dict[str, str]) -> str:
    return _ARGUMENT.sub(lambda m: values[m.group(2)], rule.rule)


def path_variants(rule: Any, valid: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(path, note): each argument in turn replaced by every hostile value of its converter."""
    for match in _ARGUMENT.finditer(rule.rule):
        converter, name = match.group(1) or "default", match.group(2)
        for value in PATH_VALUES.get(converter, PATH_VALUES["default"]):
            yield build_path(rule, {**valid, name: value}), f"{name}={value[:20]}"


def rules_of(app: Any, *, admin: bool) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/admin") == admin),
                  key=lambda r: (r.rule, r.endpoint))


def methods_of(rule: Any) -> list[str]:
    return sorted(m for m in rule.methods if m in ("GET", "POST"))


def sign_in(client: Any) -> None:
    response = client.post("/admin/login", data={"email": OWNER, "password": PASSWORD})
    assert response.status_code == 302 and "/admin/login" not in response.headers["Location"], response.data[:500]


def hostile_bodies(fields: dict[str, str], valid: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, bool]]:
    """(body, note, must_refuse): the valid body with one field at a time made hostile, and whole-body oddities."""
    yield {}, "empty body", False
    yield {name: "" for name in fields}, "every field empty", False
    yield {name: [LONG, LONG] for name in fields}, "every field repeated, 10 kB each", False
    yield {**valid, "unexpected": LONG, "csrf_token": SCRIPT}, "unknown fields", False
    for name, kind in fields.items():
        if kind == MONEY:
            for value in BAD_AMOUNTS:
                yield {**valid, name: value}, f"{name}={value[:24]!r}", True
            yield {**valid, name: ["10", "12.345"]}, f"{name} repeated", False
        elif kind == "rate":
            for value in BAD_RATES:
                yield {**valid, name: value}, f"{name}={value[:24]!r}", True
        elif kind == "file":
            continue
        else:
            for value in HOSTILE[kind]:
                yield {**valid, name: value}, f"{name}={value[:24]!r}", False


def csv_uploads() -> Iterator[tuple[dict[str, Any], str, bool]]:
    header = "campaign,amount,currency,received_at,donor_name,message,external_id\n"
    files = {
        "no file": b"",
        "binary": bytes(range(256)) * 8,
        "NUL": b"campaign,amount\n\x00\n",
        "latin-1": "campaign,amount\nd\xe9mo,1\n".encode("latin-1"),
        "no header": b"1,2,3\n",
        "too many places": (header + "demo,12.345,USD,2026-01-02T00:00:00+00:00,a,b,x1\n").encode(),
        "exponent": (header + "demo,1e400,USD,2026-01-02T00:00:00+00:00,a,b,x2\n").encode(),
        "bad date": (header + "demo,12,USD,9999-99-99,a,b,x3\n").encode(),
        "unknown campaign": (header + "nope,12,USD,2026-01-02T00:00:00+00:00,a,b,x4\n").encode(),
        "hostile text": (header + f'demo,12,USD,2026-01-02T00:00:00+00:00,"{SCRIPT}","=1+2",x5\n').encode(),
        "unterminated quote": (header + 'demo,12,USD,"2026\n').encode(),
        "huge": (header + ("demo,1,USD,2026-01-02T00:00:00+00:00,a,b,\n" * 12_000)).encode(),
        "half good": (header + "demo,1,USD,2026-01-02T00:00:00+00:00,a,b,ok1\n"
                      "demo,1.001,USD,2026-01-02T00:00:00+00:00,a,b,bad1\n").encode(),
    }
    for note, content in files.items():
        must_refuse = note in ("too many places", "exponent", "half good")
        yield {"file": (io.BytesIO(content), "donations.csv")}, f"CSV: {note}", must_refuse


# --- the sweep ---------------------------------------------------------------------------


def sweep_get(sweep: Sweep, rule: Any, valid: dict[str, str], *, signed_in: bool = True) -> None:
    path = build_path(rule, valid)
    sweep.send(rule, "GET", path, signed_in=signed_in)
    for variant, note in path_variants(rule, valid):
        sweep.send(rule, "GET", variant, note=note, signed_in=signed_in)
    for pairs in QUERIES:
        sweep.send(rule, "GET", f"{path}?{urlencode(pairs)}", note=repr(pairs)[:80], signed_in=signed_in)


#: Unsigned bodies a processor's endpoint must refuse with a 4xx, writing nothing.
HOOK_BODIES = {
    "empty": b"", "junk": b"\xff\xfe\x00garbage", "JSON": b'{"id": "evt_1", "type": "checkout.session.completed"}',
    "NUL in JSON": b'{"id": "evt\\u0000", "type": "x"}', "form": b"data=%7B%22message_id%22%3A%221%22%7D",
    "huge": b"{" + b" " * 400_000 + b"}", "script": SCRIPT.encode(),
}


def sweep_hook(sweep: Sweep, rule: Any) -> None:
    """A webhook endpoint with unsigned and hostile bodies: each refused (4xx), nothing stored, never a 500."""
    for note, body in HOOK_BODIES.items():
        response = sweep.send(rule, "POST", rule.rule, data=body, note=note, signed_in=False)
        if response is not None and not 400 <= response.status_code < 500:
            sweep.failures.append(f"POST {rule.rule} [{note}]: an unsigned body got {response.status_code}")


def test_public_routes_survive_hostile_input(client: Any, app_session: Session, world: SimpleNamespace) -> None:
    """Every reader-facing route, with hostile paths and query strings: no 500, nothing raw, JSON stays JSON."""
    sweep = Sweep(client.application, client, app_session)
    rules = rules_of(client.application, admin=False)
    for rule in rules:
        for method in methods_of(rule):
            if method == "POST" and rule.rule.startswith("/hooks/"):
                sweep_hook(sweep, rule)
                continue
            assert method == "GET", f"{rule.rule}: a public POST route appeared: sweep its body too"
            sweep_get(sweep, rule, valid_path_values(world), signed_in=False)
    assert len(sweep.rules) == len(rules) >= 15
    sweep.report()


def test_admin_get_routes_survive_hostile_input(client: Any, app_session: Session, world: SimpleNamespace) -> None:
    """Every back-office page, signed in as the owner, with hostile paths and query strings."""
    sign_in(client)
    sweep = Sweep(client.application, client, app_session)
    rules = [r for r in rules_of(client.application, admin=True) if "GET" in r.methods]
    for rule in rules:
        sweep_get(sweep, rule, valid_path_values(world))
    assert len(sweep.rules) == len(rules) >= 15
    sweep.report()


def test_admin_post_routes_survive_hostile_bodies(client: Any, app_session: Session, world: SimpleNamespace) -> None:
    """Every back-office form, one field at a time made hostile: a refusal with a reason, nothing saved."""
    sign_in(client)
    sweep = Sweep(client.application, client, app_session)
    forms = post_forms(world)
    rules = [r for r in rules_of(client.application, admin=True) if "POST" in r.methods]
    # Sign-out routes last, so they do not end the session under the others.
    rules.sort(key=lambda r: r.endpoint in ENDS_SESSION)
    for rule in rules:
        assert rule.endpoint in forms, f"{rule.endpoint}: a new POST route: describe its form in post_forms"
        fields, valid = forms[rule.endpoint]
        valid_path = valid_path_values(world)
        if rule.endpoint in ("admin.donation_confirm",):
            valid_path["donation_id"] = str(world.pending_id)
        bodies = csv_uploads() if "file" in fields else hostile_bodies(fields, valid)
        for variant, note in path_variants(rule, valid_path):
            sweep.send(rule, "POST", variant, data=dict(valid), note=note)
            if rule.endpoint in ENDS_SESSION:
                sign_in(client)
        path = build_path(rule, valid_path)
        accepted = sweep.send(rule, "POST", path, data=freshen(valid, 0), note="the valid body")
        if rule.endpoint in ENDS_SESSION:
            sign_in(client)
        if rule.endpoint in ACCEPTS_VALID_BODY and accepted is not None and accepted.status_code != 302:
            sweep.failures.append(f"POST {path}: the valid body was refused ({accepted.status_code}), "
                                  "so the hostile ones never reach the domain code")
        for number, (body, note, must_refuse) in enumerate(bodies, start=1):
            sweep.send(rule, "POST", path, data=freshen(body, number), note=note, must_refuse=must_refuse)
            if rule.endpoint in ENDS_SESSION:
                sign_in(client)
        for pairs in ([("next", "//evil.example/")], [("campaign", str(BIG))], [("next", SCRIPT)]):
            sweep.send(rule, "POST", f"{path}?{urlencode(pairs)}", data=dict(valid), note=repr(pairs))
            if rule.endpoint in ENDS_SESSION:
                sign_in(client)
    assert len(sweep.rules) == len(rules) >= 15
    sweep.report()


def test_every_admin_route_needs_a_sign_in(client: Any, app_session: Session, world: SimpleNamespace) -> None:
    """Anonymous requests to every admin rule, GET and POST, valid bodies: sent to sign in, nothing saved."""
    sweep = Sweep(client.application, client, app_session)
    forms = post_forms(world)
    for rule in rules_of(client.application, admin=True):
        if rule.endpoint in PUBLIC_ADMIN:
            continue
        path = build_path(rule, valid_path_values(world))
        for method in methods_of(rule):
            data = dict(forms[rule.endpoint][1]) if method == "POST" else None
            response = sweep.send(rule, method, path, data=data, signed_in=False)
            if response is not None and not (response.status_code == 302
                                              and "/admin/login" in response.headers["Location"]):
                sweep.failures.append(f"{method} {path}: anonymous got {response.status_code}, not the sign-in page")
    sweep.report()


# --- CSRF, next=, escaping, QR images ------------------------------------------------------

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def test_every_admin_post_route_refuses_a_request_without_its_csrf_token(
        csrf_app: Any, make_user: Callable[..., User], app_session: Session, world: SimpleNamespace) -> None:
    """With CSRF on, a signed-in owner's browser posting from another site changes nothing on any route."""
    client = csrf_app.test_client()
    assert client.post("/admin/login", data={"email": OWNER, "password": PASSWORD}).status_code == 400
    token = TOKEN.search(client.get("/admin/login").get_data(as_text=True))
    assert token, "the sign-in form has no CSRF token"
    signed_in = client.post("/admin/login", data={"email": OWNER, "password": PASSWORD, "csrf_token": token[1]})
    assert signed_in.status_code == 302 and "/admin/login" not in signed_in.headers["Location"]
    sweep = Sweep(csrf_app, client, app_session)
    forms = post_forms(world)
    rules = [r for r in rules_of(csrf_app, admin=True) if "POST" in r.methods]
    for rule in rules:
        path = build_path(rule, valid_path_values(world))
        for forged in (None, "forged-token", token[1][:-4] + "AAAA"):
            body = freshen(forms[rule.endpoint][1], 0)
            if forged is not None:
                body["csrf_token"] = forged
            response = sweep.send(rule, "POST", path, data=body, note=f"csrf_token={forged}")
            if response is None:
                continue
            if response.status_code != 400 or "not sent from this site" not in response.get_data(as_text=True):
                sweep.failures.append(f"POST {path} with csrf_token={forged}: {response.status_code}, not refused")
    # Still signed in: neither sign-out route ran without its token.
    assert client.get("/admin/").status_code == 200
    assert len(sweep.rules) == len(rules) >= 15
    sweep.report()
    # The same request with the page's own token goes through, so the refusals above are the token's doing.
    page = client.get(f"/admin/campaigns/{world.slug}").get_data(as_text=True)
    real = TOKEN.search(page)
    assert real
    ok = client.post(f"/admin/campaigns/{world.slug}/status", data={"status": "archived", "csrf_token": real[1]})
    assert ok.status_code == 302


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/admin/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "/%2F%2Fevil.example", "\t//evil.example", " //evil.example", "http:evil.example", "//evil.example@localhost",
    "/admin/\r\nSet-Cookie: x=1", SCRIPT, "",
])
def test_next_never_leads_off_the_site(client: Any, make_user: Callable[..., User], target: str) -> None:
    """After signing in, `next=` leads to a path on this site or to the dashboard, never elsewhere."""
    make_user(OWNER, role="owner")
    page = client.get("/admin/login?" + urlencode({"next": target}))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not any(marker in html for marker in RAW_MARKERS)
    response = client.post("/admin/login?" + urlencode({"next": target}),
                           data={"email": OWNER, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "\n" not in location and "\r" not in location
    assert not any("x=1" in cookie for cookie in response.headers.getlist("Set-Cookie"))
    assert location == "/admin/" or location.startswith("/admin/%2F") or location == target, location
    again = client.get("/admin/login?" + urlencode({"next": target}))
    assert again.status_code == 302 and again.headers["Location"].startswith("/")
    assert not again.headers["Location"].startswith(("//", "/\\"))


def test_next_brings_a_signed_out_admin_back_to_the_page_asked_for(client: Any, make_user: Callable[..., User]) -> None:
    make_user(OWNER, role="owner")
    asked = client.get("/admin/donations?status=pending")
    assert asked.status_code == 302 and "/admin/login?next=" in asked.headers["Location"]
    login_page = asked.headers["Location"]
    response = client.post(login_page, data={"email": OWNER, "password": PASSWORD,
                                             "next": "/admin/donations?status=pending"})
    assert response.headers["Location"] == "/admin/donations?status=pending"


HOSTILE_TITLE = 'Fund <script>alert("t")</script> & "friends" </svg><svg onload=alert(2)>'


@pytest.fixture()
def hostile_campaign(app_session: Session, world: SimpleNamespace) -> str:
    """A second campaign whose title, milestone label and donor texts are all hostile."""
    from tracker.campaigns.operations import CampaignInput, MilestoneInput, save_campaign

    campaign = save_campaign(app_session, CampaignInput(
        slug="hostile", title=HOSTILE_TITLE, target=Money.parse("100", "USD"), status="active",
        description=HOSTILE_MESSAGE, milestones=[MilestoneInput(Money.parse("50", "USD"), HOSTILE_NAME)]), actor=CLI)
    record_donation(app_session, campaign, Money.parse("5", "USD"), actor=CLI, external_id="h-1",
                    donor_name=HOSTILE_NAME, message=HOSTILE_MESSAGE, is_public=True)
    record_donation(app_session, campaign, Money.parse("6", "USD"), actor=CLI, external_id="h-2",
                    donor_name="=HYPERLINK(\"http://evil.example\",\"x\")", message="+1-2", is_public=True)
    app_session.commit()
    return campaign.slug


def assert_escaped_html(html: str, *texts: str) -> None:
    from markupsafe import escape

    for marker in RAW_MARKERS:
        assert marker not in html, marker
    for text in texts:
        assert str(escape(text)) in html or str(escape(text)).replace("&#34;", "&quot;") in html, text[:40]


def test_donor_texts_and_titles_are_escaped_on_reader_pages(client: Any, hostile_campaign: str) -> None:
    support = client.get("/support").get_data(as_text=True)
    assert_escaped_html(support, HOSTILE_NAME, HOSTILE_MESSAGE, HOSTILE_TITLE)
    page = client.get(f"/c/{hostile_campaign}").get_data(as_text=True)
    assert_escaped_html(page, HOSTILE_NAME, HOSTILE_MESSAGE, HOSTILE_TITLE)
    widget = client.get(f"/widget/{hostile_campaign}")
    assert widget.status_code == 200
    assert_escaped_html(widget.get_data(as_text=True), HOSTILE_TITLE)


def test_admin_pages_escape_donor_texts(client: Any, hostile_campaign: str, world: SimpleNamespace) -> None:
    sign_in(client)
    for path in ("/admin/", "/admin/donations", f"/admin/donations/{world.donation_id}",
                 f"/admin/campaigns/{hostile_campaign}", f"/admin/campaigns/{hostile_campaign}/edit",
                 "/admin/campaigns", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        for marker in RAW_MARKERS:
            assert marker not in html, (path, marker)


def test_svg_badge_is_well_formed_xml_with_the_title_as_text(client: Any, hostile_campaign: str) -> None:
    import xml.etree.ElementTree as ElementTree

    response = client.get(f"/widget/{hostile_campaign}.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.data)  # raises on anything that breaks out of the markup
    namespace = "{http://www.w3.org/2000/svg}"
    assert [element.tag for element in root] and not list(root.iter(f"{namespace}script"))
    for element in root.iter():
        assert not any(name.lower().startswith("on") for name in element.attrib), element.attrib
    # The title reaches the reader as text, exactly as typed.
    title = root.find(f"{namespace}title")
    assert title is not None and (title.text or "").startswith(HOSTILE_TITLE)


def test_json_api_carries_hostile_text_as_data(client: Any, hostile_campaign: str) -> None:
    import json

    one = client.get(f"/api/v1/campaigns/{hostile_campaign}")
    assert one.status_code == 200 and one.mimetype == "application/json"
    assert json.loads(one.data)["title"] == HOSTILE_TITLE
    listed = json.loads(client.get("/api/v1/campaigns").data)
    assert HOSTILE_TITLE in [c["title"] for c in listed["campaigns"]]
    oembed = client.get("/oembed?" + urlencode({"url": f"{SITE}/c/{hostile_campaign}"}))
    assert oembed.status_code == 200 and oembed.mimetype == "application/json"
    document = json.loads(oembed.data)
    assert document["title"] == HOSTILE_TITLE
    assert not any(marker in document["html"] for marker in RAW_MARKERS), document["html"]
    for path in ("/api/v1/campaigns/no-such", "/api/v1/campaigns/a%00b", "/oembed?url=javascript:alert(1)",
                 "/oembed?format=xml"):
        error = client.get(path)
        assert error.mimetype == "application/json", (path, error.status_code, error.mimetype)
        assert "error" in json.loads(error.data), path


def test_csv_export_round_trips_hostile_text_and_neutralises_formulas(
        client: Any, hostile_campaign: str, app_session: Session) -> None:
    import csv

    sign_in(client)
    campaign_id = app_session.scalar(select(Campaign.id).where(Campaign.slug == hostile_campaign))
    response = client.get(f"/admin/donations/export.csv?campaign={campaign_id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    by_id = {row["external_id"]: row for row in rows}
    assert by_id["h-1"]["donor_name"] == HOSTILE_NAME and by_id["h-1"]["message"] == HOSTILE_MESSAGE
    assert by_id["h-2"]["donor_name"].startswith("'=") and by_id["h-2"]["message"] == "'+1-2"
    assert client.get(f"/admin/donations/export.csv?campaign={campaign_id + 1000}").status_code == 404
    assert client.get("/admin/donations/export.csv?campaign=abc").status_code == 404


def test_qr_images_never_draw_anything_taken_from_the_url(client: Any, world: SimpleNamespace,
                                                          app_session: Session) -> None:
    attacker = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    for fmt in ("svg", "png"):
        plain = client.get(f"/qr/{world.method_id}.{fmt}")
        assert plain.status_code == 200
        for extra in ({"address": attacker}, {"target": attacker}, {"uri": f"bitcoin:{attacker}"},
                      {"label": SCRIPT}, {"coin": "ETH"}, {"network": "testnet"}, {"message": attacker}):
            response = client.get(f"/qr/{world.method_id}.{fmt}?{urlencode(extra)}")
            assert response.status_code == 200 and response.data == plain.data, extra
            assert response.headers["ETag"] == plain.headers["ETag"]
        assert client.get(f"/qr/{attacker}.{fmt}").status_code == 404
        assert client.get(f"/qr/bitcoin:{attacker}.{fmt}").status_code == 404
    email = app_session.scalar(select(PaymentMethod.id).where(PaymentMethod.kind == "email"))
    assert client.get(f"/qr/{email}.svg").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_every_admin_route_refuses_a_role_below_its_own(client: Any, app_session: Session, world: SimpleNamespace,
                                                        make_user: Callable[..., User], role: str) -> None:
    """Each admin view's declared role, read from the view itself: a lower role gets a 403 and changes nothing."""
    from tracker.models import role_allows
    from tracker.web.access import ACCESS_ATTRIBUTE

    email = f"{role}@example.org"
    make_user(email, role=role)
    assert client.post("/admin/login", data={"email": email, "password": PASSWORD}).status_code == 302
    sweep = Sweep(client.application, client, app_session)
    forms = post_forms(world)
    checked = 0
    for rule in rules_of(client.application, admin=True):
        access = getattr(client.application.view_functions[rule.endpoint], ACCESS_ATTRIBUTE, None)
        assert access is not None, f"{rule.endpoint} declares no access rule"
        if access["role"] is None or rule.endpoint in ENDS_SESSION:
            continue
        path = build_path(rule, valid_path_values(world))
        for method in methods_of(rule):
            needed = access["role"]
            if method == "POST" and not access["self_service"] and not role_allows(needed, "admin"):
                needed = "admin"
            if role_allows(role, needed):
                continue
            checked += 1
            data = freshen(forms[rule.endpoint][1], 0) if method == "POST" else None
            response = sweep.send(rule, method, path, data=data, note=f"as {role}")
            if response is not None and response.status_code != 403:
                sweep.failures.append(f"{method} {path} as {role}: {response.status_code}, not 403")
    assert checked >= (15 if role == "viewer" else 3)
    sweep.report()


def test_out_of_range_dates_and_pages_get_a_message(client: Any, app_session: Session, world: SimpleNamespace) -> None:
    """The inputs that were 500s: a year-1 date in a zone east of UTC, a page number past 64 bits."""
    sign_in(client)
    before = Sweep(client.application, client, app_session).fingerprint()
    response = client.post("/admin/donations/new", data={
        "campaign": str(world.campaign_id), "amount": "10", "currency": "USD", "received_at": "0001-01-01T00:00",
        "status": "confirmed", "form_key": "dates"})
    assert response.status_code == 422
    assert "enter a date between the years 1900 and 9998" in response.get_data(as_text=True)
    assert Sweep(client.application, client, app_session).fingerprint() == before
    filtered = client.get("/admin/donations?date_to=9999-12-31")
    assert filtered.status_code == 422 and "between the years" in filtered.get_data(as_text=True)
    last = client.get("/admin/donations?page=99999999999999999999")
    assert last.status_code == 200 and f"/admin/donations/{world.donation_id}" in last.get_data(as_text=True)
