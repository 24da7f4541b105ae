"""Helpers of the processors' tests: signed senders for each connection, and a local Greenfield API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import stripe
from standardwebhooks import Webhook

FIXTURES = Path(__file__).resolve().parent / "processors" / "fixtures"
STRIPE_SECRET = "whsec_test_current_0123456789"
STRIPE_PREVIOUS = "whsec_test_previous_9876543210"
BTCPAY_SECRET = "btcpay-webhook-secret"
BTCPAY_KEY = "greenfield-api-key-0123"
KOFI_TOKEN = "5110352d-afa7-454a-b0ed-58661e16c0d5"
GITHUB_SECRET = "github-sponsors-secret"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-test-secret-32b").decode()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def processor_overrides(btcpay_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
    return {
        "site.url": "https://support.example.org",
        "processors.stripe.webhook_secret": STRIPE_SECRET, "processors.stripe.previous_secret": STRIPE_PREVIOUS,
        "processors.stripe.default_campaign": "demo",
        "processors.btcpay.webhook_secret": BTCPAY_SECRET, "processors.btcpay.api_key": BTCPAY_KEY,
        "processors.btcpay.url": btcpay_url, "processors.btcpay.default_campaign": "demo",
        "processors.kofi.verification_token": KOFI_TOKEN, "processors.kofi.default_campaign": "demo",
        "processors.github_sponsors.webhook_secret": GITHUB_SECRET,
        "processors.github_sponsors.default_campaign": "demo",
        "processors.standard.webhook_secret": STANDARD_SECRET, "processors.standard.default_campaign": "demo",
    }


class Greenfield:
    """A local stand-in for a BTCPay Server's Greenfield API: it answers invoices it was given."""

    def __init__(self) -> None:
        self.invoices: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                outer.requests.append((self.path, self.headers.get("Authorization", "")))
                parts = self.path.strip("/").split("/")
                invoice = None
                if (len(parts) == 6 and parts[:3] == ["api", "v1", "stores"] and parts[4] == "invoices"
                        and self.headers.get("Authorization") == f"token {BTCPAY_KEY}"):
                    invoice = outer.invoices.get(parts[5])
                    if invoice is not None and invoice.get("storeId") != parts[3]:
                        invoice = None
                if invoice is None:
                    status, body = 404, {"code": "invoice-not-found", "message": "The invoice was not found"}
                else:
                    status, body = 200, invoice
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def stripe_headers(body: str, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Signed with the stripe package's own helper."""
    return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body, secret, timestamp),
            "Content-Type": "application/json"}


def send_stripe(client: Any, event: dict[str, Any], **kwargs: Any) -> Any:
    body = json.dumps(event)
    return client.post("/hooks/stripe", data=body, headers=stripe_headers(body, **kwargs))


def btcpay_headers(body: bytes, secret: str = BTCPAY_SECRET) -> dict[str, str]:
    return {"BTCPay-Sig": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def send_btcpay(client: Any, event: dict[str, Any]) -> Any:
    body = json.dumps(event).encode()
    return client.post("/hooks/btcpay", data=body, headers=btcpay_headers(body))


def send_kofi(client: Any, payment: dict[str, Any]) -> Any:
    return client.post("/hooks/kofi", data=urlencode({"data": json.dumps(payment)}),
                       content_type="application/x-www-form-urlencoded")


def github_headers(body: bytes, event: str = "sponsorship", secret: str = GITHUB_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()), "Content-Type": "application/json"}


def send_github(client: Any, payload: dict[str, Any], event: str = "sponsorship") -> Any:
    body = json.dumps(payload).encode()
    return client.post("/hooks/github-sponsors", data=body, headers=github_headers(body, event))


def standard_headers(body: str, msg_id: str | None = None, when: datetime | None = None,
                     secret: str = STANDARD_SECRET) -> dict[str, str]:
    """Signed with the Standard Webhooks reference library."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    when = when or datetime.now(timezone.utc)
    signature = Webhook(secret).sign(msg_id, when, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(when.timestamp())), "webhook-signature": signature,
            "Content-Type": "application/json"}


def send_standard(client: Any, gift: dict[str, Any], **kwargs: Any) -> Any:
    body = json.dumps(gift)
    return client.post("/hooks/standard", data=body, headers=standard_headers(body, **kwargs))


def now_ts() -> int:
    return int(time.time())
