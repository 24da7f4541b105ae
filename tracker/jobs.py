"""Background work on Huey: webhook deliveries, e-mail, payment follow-ups, chain polls, rates.

Huey (a well-kept task queue) does the queueing, the consumers, retries with delays and the
clock; this module only decides *which* storage and makes the two promises Huey cannot make
alone (docs/architecture.md, "Background work"):

* **Storage**: Huey's SQLite storage in `instance/queue.db` by default (no other service for a
  demo or a small site), its Redis storage when `[redis] url` is set (several hosts).
* **Every job is idempotent by a unique key in the database.** A queue can run a job twice
  (a retry after a timeout) or lose it (a consumer killed with `kill -9` after taking it), so a
  job only ever moves durable rows from one state to the next (a delivery from pending to
  delivered, an event's e-mail from due to sent), and the sweep finds what a lost job left.
* **Periodic jobs run once per deployment.** Every consumer runs Huey's scheduler, so each one
  sees a schedule come due; a `job_lease` row per schedule is moved forward with a conditional
  UPDATE, and only the consumer whose UPDATE changed the row runs the job.

Jobs are plain functions `fn(session, settings, **kwargs)` registered with `@job` or
`@periodic`; each runs in one transaction of its own.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab  # type: ignore[import-untyped]
from sqlalchemy import event, update
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db import session_scope, upsert_for
from .events import WORK_DUE
from .models import JobLease, utcnow

log = logging.getLogger(__name__)

JobFunction = Callable[..., Any]


@dataclass(frozen=True)
class Job:
    name: str
    function: JobFunction
    retries: int
    retry_delay: int


@dataclass(frozen=True)
class Periodic:
    name: str
    function: JobFunction
    every: timedelta


JOBS: dict[str, Job] = {}
PERIODIC: dict[str, Periodic] = {}


def job(name: str, *, retries: int = 3, retry_delay: int = 30) -> Callable[[JobFunction], JobFunction]:
    """Register `fn(session, settings, **kwargs)` as a job that can be queued by name."""
    def register(function: JobFunction) -> JobFunction:
        JOBS[name] = Job(name, function, retries, retry_delay)
        return function
    return register


def periodic(name: str, *, every: timedelta) -> Callable[[JobFunction], JobFunction]:
    """Register `fn(session, settings)` to run every `every` (at minute resolution), once per deployment."""
    def register(function: JobFunction) -> JobFunction:
        add_periodic(name, function, every)
        return function
    return register


def add_periodic(name: str, function: JobFunction, every: timedelta) -> None:
    PERIODIC[name] = Periodic(name, function, max(every, timedelta(minutes=1)))


def load_jobs() -> None:
    """Import every module that registers jobs (each area keeps its jobs beside its code)."""
    from . import notices
    from .campaigns import closing
    from .chains import jobs as chain_jobs
    from .processors import jobs as processor_jobs

    add_periodic("tracker.daily_digest", notices.daily_digest, timedelta(days=1))
    add_periodic("campaigns.close_periods", closing.close_periods, timedelta(hours=1))
    for area, schedule in (("processors", processor_jobs.PERIODIC), ("chains", chain_jobs.PERIODIC)):
        for function, seconds in schedule:
            add_periodic(f"{area}.{function.__name__}", function, timedelta(seconds=seconds))


def storage_description(settings: Settings) -> str:
    """Where the queue lives, in words (for `tracker worker --help`, its banner and /readyz)."""
    if settings.redis.url:
        return f"Redis ({_redacted(settings.redis.url)})"
    return f"SQLite ({queue_path(settings)})"


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def queue_path(settings: Settings) -> Path:
    return Path(settings.instance_path) / "queue.db"


def build_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    if settings.redis.url:
        return RedisHuey("tracker", url=settings.redis.url, immediate=immediate, utc=True)
    path = queue_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("tracker", filename=str(path), immediate=immediate, utc=True)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(session: Session, name: str, every: timedelta, now: datetime | None = None) -> bool:
    """Take this run of periodic job `name` if no consumer has: True for exactly one caller per slot."""
    now = now or utcnow()
    # INSERT … ON CONFLICT DO NOTHING: the row is made once, by whichever consumer comes first.
    session.execute(upsert_for(session)(JobLease).values(name=name, next_run_at=now, holder="", last_error="")
                    .on_conflict_do_nothing(index_elements=["name"]))
    moved = session.execute(
        update(JobLease).where(JobLease.name == name, JobLease.next_run_at <= now)
        .values(next_run_at=now + every, holder=holder_name(), started_at=now)
        .execution_options(synchronize_session=False))
    return bool(getattr(moved, "rowcount", 0) == 1)


class Queue:
    """One process's handle on the queue: enqueue jobs, run due periodic jobs, build a consumer."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], *, immediate: bool = False) -> None:
        load_jobs()
        self.settings = settings
        self.factory = factory
        self.huey = build_huey(settings, immediate=immediate)
        self._tasks: dict[str, Any] = {}
        for spec in JOBS.values():
            self._tasks[spec.name] = self.huey.task(retries=spec.retries, retry_delay=spec.retry_delay,
                                                    name=spec.name)(self._runner(spec.function))
        # Answers how long a job waited between enqueue and start (the rehearsal's queue latency).
        self._ping = self.huey.task(name="tracker.ping")(_waited)
        minutes = self.settings.queue.sweep_minutes
        schedule = crontab(minute="*" if minutes == 1 else f"*/{minutes}")
        self.huey.periodic_task(schedule, name="tracker.tick")(self.tick)

    def _runner(self, function: JobFunction) -> Callable[..., Any]:
        def run(**kwargs: Any) -> Any:
            with session_scope(self.factory, write=True) as session:
                return function(session, self.settings, **kwargs)
        return run

    def enqueue(self, name: str, **kwargs: Any) -> bool:
        """Queue a job; False (logged) when the queue's storage is unreachable: the sweep does it later."""
        try:
            self._tasks[name](**kwargs)
        except Exception:  # noqa: BLE001 - Redis down, SQLite locked: the durable rows remain
            log.warning("could not queue %s; the next sweep will do it", name, exc_info=True)
            return False
        return True

    def run_now(self, name: str, **kwargs: Any) -> Any:
        """Run a job in this process (the CLI, tests), in its own transaction."""
        return self._runner(JOBS[name].function)(**kwargs)

    def tick(self, now: datetime | None = None) -> list[str]:
        """Run every periodic job that is due and that this consumer wins; returns their names."""
        ran = []
        for spec in list(PERIODIC.values()):
            with session_scope(self.factory, write=True) as session:
                if not claim(session, spec.name, spec.every, now):
                    continue
            ran.append(spec.name)
            error = ""
            try:
                self._runner(spec.function)()
            except Exception as exc:  # noqa: BLE001 - one failing schedule must not stop the others
                log.exception("periodic job %s failed", spec.name)
                error = f"{type(exc).__name__}: {exc}"[:500]
            with session_scope(self.factory, write=True) as session:
                session.execute(update(JobLease).where(JobLease.name == spec.name)
                                .values(finished_at=utcnow(), last_error=error))
        return ran

    def watch_commits(self, factory: sessionmaker[Session]) -> None:
        """After a transaction that made deliveries or e-mails commits, queue the sweep at once."""
        def after_commit(session: Session) -> None:
            # SQLAlchemy fires this for a released SAVEPOINT too: wait for the outermost commit.
            if session.in_transaction():
                return
            if session.info.pop(WORK_DUE, False):
                self.enqueue("tracker.sweep")

        def after_rollback(session: Session) -> None:
            session.info.pop(WORK_DUE, None)

        event.listen(factory, "after_commit", after_commit)
        event.listen(factory, "after_soft_rollback", lambda session, _previous: after_rollback(session))

    def ping(self) -> Any:
        """Queue a job that returns the seconds it waited; `.get(blocking=True)` on the result."""
        return self._ping(time.time())

    def pending(self) -> int:
        return int(self.huey.pending_count())


def _waited(sent_at: float) -> float:
    return time.time() - sent_at


@job("tracker.sweep", retries=0)
def sweep(session: Session, settings: Settings) -> str:
    """Do what is due: webhook deliveries and e-mails (the work a lost job would have done)."""
    from .notices import send_due_mail
    from .webhooks.delivery import deliver_due

    delivered = deliver_due(session, settings)
    mailed = send_due_mail(session, settings)
    return f"{delivered} webhook attempt(s), {mailed} e-mail(s)"


add_periodic("tracker.sweep", sweep, timedelta(minutes=1))
