"""The queue's promises: periodic jobs once per deployment, jobs idempotent by database keys,
a worker killed with kill -9 mid-job leaves exactly one effect once another worker runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from factories import CLI
from receiver import Receiver
from sqlalchemy import func, select

from tracker.config import load_settings
from tracker.db import make_sessionmaker, session_scope
from tracker.donations.ledger import record_donation
from tracker.jobs import PERIODIC, Queue, claim
from tracker.models import JobLease, WebhookAttempt, WebhookDelivery, utcnow
from tracker.money import Money
from tracker.webhooks.delivery import add_endpoint


def test_of_twenty_consumers_one_runs_a_periodic_slot(engine, clean_db):
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(20)
    won = []
    now = utcnow()

    def consumer():
        with session_scope(factory) as session:
            barrier.wait()
            if claim(session, "test.job", timedelta(minutes=5), now):
                won.append(threading.get_ident())

    threads = [threading.Thread(target=consumer) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    with factory() as session:
        lease = session.get_one(JobLease, "test.job")
        assert lease.next_run_at - now == timedelta(minutes=5)
        assert not claim(session, "test.job", timedelta(minutes=5), now + timedelta(minutes=4))
        assert claim(session, "test.job", timedelta(minutes=5), now + timedelta(minutes=5))


def test_a_tick_runs_each_due_schedule_once(engine, clean_db, settings_factory):
    settings = settings_factory()
    queue = Queue(settings, make_sessionmaker(engine), immediate=True)
    first = queue.tick()
    assert "tracker.sweep" in first and "tracker.daily_digest" in first
    assert queue.tick() == []  # nothing is due again within the minute
    assert set(queue.tick(utcnow() + timedelta(minutes=2))) == {"tracker.sweep"} | (
        {name for name, spec in PERIODIC.items() if spec.every <= timedelta(minutes=2)})


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "tracker", "worker", "--workers", "1"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_leaves_one_effect(tmp_path: Path, database_url, clean_db, engine):
    """kill -9 a real `tracker worker` while it waits for the endpoint; a second worker sends
    the delivery again under the same webhook-id, and the ledger of deliveries shows one."""
    config = tmp_path / "config.toml"
    config.write_text(f"""environment = "production"
instance_path = "{tmp_path / 'instance'}"
[security]
secret_key = "worker-test-secret-0123456789abcdef"
[database]
url = "{database_url}"
[webhooks]
allow_private_addresses = true
timeout_seconds = 1
""")
    settings = load_settings(config, env={})
    factory = make_sessionmaker(engine)
    queue = Queue(settings, factory)
    env = {**os.environ, "TRACKER_CONFIG": str(config)}
    with Receiver(delay=4.0) as receiver:
        with factory() as session:
            from factories import new_campaign

            campaign = new_campaign(session)
            endpoint = add_endpoint(session, receiver.url, ["donation.recorded"], actor=CLI, settings=settings)
            record_donation(session, campaign, Money.parse("5", "USD"), actor=CLI)
            session.commit()
        first = _worker(env, tmp_path / "first.log")
        try:
            assert queue.enqueue("tracker.sweep")
            deadline = time.monotonic() + 30
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert receiver.received, "the first worker never called the endpoint"
            first.send_signal(signal.SIGKILL)  # mid-delivery: the endpoint has not answered yet
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        with factory() as session:
            delivery = session.scalars(select(WebhookDelivery)).one()
            assert delivery.state == "pending" and delivery.leased_until is not None
        time.sleep(max(0.0, (delivery.leased_until - utcnow()).total_seconds()) + 0.5)
        second = _worker(env, tmp_path / "second.log")
        try:
            assert queue.enqueue("tracker.sweep")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with factory() as session:
                    if session.scalar(select(WebhookDelivery.state)) == "delivered":
                        break
                time.sleep(0.1)
        finally:
            second.send_signal(signal.SIGINT)
            try:
                second.wait(15)
            except subprocess.TimeoutExpired:
                second.kill()
    with factory() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.state == "delivered" and delivery.attempts == 2
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == 1  # the killed try left none
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert endpoint.id


def test_a_worker_started_while_the_database_is_away_waits_for_it(tmp_path: Path):
    """The rehearsal restarted a worker during a PostgreSQL restart and it exited; it now waits."""
    config = tmp_path / "config.toml"
    config.write_text(f"""environment = "production"
instance_path = "{tmp_path / 'instance'}"
[security]
secret_key = "worker-test-secret-0123456789abcdef"
[database]
url = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere"
""")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "tracker", "worker"], env={**os.environ,
                                  "TRACKER_CONFIG": str(config)}, stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(6)
        assert worker.poll() is None, log.read_text()
        assert "waiting for the database" in log.read_text()
    finally:
        worker.kill()
        worker.wait(10)
