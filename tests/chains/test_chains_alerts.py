"""A watcher that keeps failing e-mails the owner once per run of failures."""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes
from typing import Any, Iterator

import pytest
from sqlalchemy.orm import Session

from tracker.chains.alerts import ALERT_AFTER
from tracker.chains.jobs import PERIODIC, watch_and_alert

W = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


class Mailbox(socketserver.ThreadingTCPServer):
    """Just enough SMTP (RFC 5321) to receive messages: EHLO, MAIL, RCPT, DATA, QUIT."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[Any] = []
        super().__init__(("127.0.0.1", 0), _Session)


class _Session(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.server.messages.append(message_from_bytes(data))  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture()
def mailbox() -> Iterator[Mailbox]:
    server = Mailbox()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_owner_is_told_once_after_repeated_failures(session: Session, settings_factory, add_method, mailbox):
    add_method("BTC", W)
    settings = settings_factory(**{
        "chains.btc.backend": "esplora", "chains.btc.url": "http://127.0.0.1:9",
        "smtp.host": "127.0.0.1", "smtp.port": mailbox.server_address[1], "smtp.security": "none",
        "smtp.sender": "tracker@news.example", "smtp.recipients": ["owner@news.example"]})
    from tracker.models import ChainWatcher

    for attempt in range(1, ALERT_AFTER + 3):
        status = session.get(ChainWatcher, "BTC")
        if status is not None:
            status.next_poll_at = None  # due again at once
        [result] = watch_and_alert(session, settings)
        session.commit()
        assert not result.ok and result.failures == attempt
    [message] = mailbox.messages
    assert message["To"] == "owner@news.example"
    assert message["Subject"] == f"Example News: the BTC watcher failed {ALERT_AFTER} times in a row"
    assert "could not be reached" in message.get_payload()


def test_the_periodic_jobs_are_plain_functions_of_a_session_and_settings():
    names = [job.__name__ for job, seconds in PERIODIC]
    assert names == ["watch_and_alert", "refresh_rates"]
    assert all(seconds >= 15 for _, seconds in PERIODIC)
