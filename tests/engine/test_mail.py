"""E-mail to the publisher, through a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from factories import CLI
from sqlalchemy import select

from tracker.donations.ledger import record_donation
from tracker.models import OutboxEvent
from tracker.money import Money
from tracker.notices import daily_digest, send_due_mail


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler API
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _settings(settings_factory, port, **extra):
    return settings_factory(**{"smtp.host": "127.0.0.1", "smtp.port": port, "smtp.security": "none",
                               "smtp.sender": "tracker@example.org", **extra})


def test_owners_are_told_of_a_gift_and_a_milestone(session, make_campaign, make_user_in_session, smtp_server,
                                                   settings_factory):
    inbox, port = smtp_server
    make_user_in_session("owner@example.org", "owner")
    make_user_in_session("helper@example.org", "admin")
    settings = _settings(settings_factory, port)
    campaign = make_campaign(target="100", milestones=(("50", "Half way"),))
    record_donation(session, campaign, Money.parse("60", "USD"), actor=CLI, donor_name="Ada", is_public=True)
    session.commit()
    assert send_due_mail(session, settings) == 2
    subjects = sorted(message["Subject"] for _, message in inbox.messages)
    assert subjects == ["Example News: a gift of 60.00 USD", "Example News: milestone 50.00 USD reached"]
    assert all(to == ["owner@example.org"] for to, _ in inbox.messages)
    assert "Ada" in inbox.messages[0][1].get_content() or "Ada" in inbox.messages[1][1].get_content()
    assert send_due_mail(session, settings) == 0  # each message once


def test_a_refused_message_is_kept_and_sent_later(session, make_campaign, make_user_in_session, settings_factory,
                                                  smtp_server):
    inbox, port = smtp_server
    make_user_in_session("owner@example.org", "owner")
    campaign = make_campaign()
    record_donation(session, campaign, Money.parse("5", "USD"), actor=CLI)
    session.commit()
    down = _settings(settings_factory, _free_port())  # nothing listens there
    assert send_due_mail(session, down) == 0
    assert session.scalars(select(OutboxEvent.mail_due)).one() is True
    assert send_due_mail(session, _settings(settings_factory, port)) == 1
    assert len(inbox.messages) == 1


def test_the_daily_digest_lists_the_gifts_in_one_message(session, make_campaign, make_user_in_session,
                                                         settings_factory, smtp_server):
    inbox, port = smtp_server
    make_user_in_session("owner@example.org", "owner")
    settings = _settings(settings_factory, port, **{"smtp.daily_digest": True})
    campaign = make_campaign(milestones=())
    for amount in ("5", "7"):
        record_donation(session, campaign, Money.parse(amount, "USD"), actor=CLI)
    session.commit()
    assert send_due_mail(session, settings) == 0  # gifts wait for the digest
    assert daily_digest(session, settings) == "2 gifts in the digest"
    session.commit()
    [(_, message)] = inbox.messages
    assert message["Subject"] == "Example News: 2 new gifts"
    assert "5.00 USD" in message.get_content() and "7.00 USD" in message.get_content()


def test_without_a_mail_server_nothing_is_owed(session, make_campaign, settings_factory):
    campaign = make_campaign()
    record_donation(session, campaign, Money.parse("5", "USD"), actor=CLI)
    session.commit()
    assert send_due_mail(session, settings_factory()) == 0
    session.commit()
    assert session.scalars(select(OutboxEvent.mail_due)).one() is False
