"""Benchmark: reading a campaign's progress at 1k, 100k and 1M donations, SQLite and PostgreSQL.

Compares, in one run, the maintained-aggregate read (`campaign_progress`, one primary-key
lookup) with the naive SUM over the ledger, so the ratio between ledger sizes is what counts,
not the absolute figure on a noisy machine.

    python bench/progress.py                      # SQLite, plus PostgreSQL if reachable
    python bench/progress.py --sizes 1000 100000  # fewer sizes
    TRACKER_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/progress.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from tracker import schema
from tracker.audit import Actor
from tracker.campaigns.operations import CampaignInput, save_campaign
from tracker.campaigns.progress import campaign_progress, period_window
from tracker.db import make_engine, make_sessionmaker
from tracker.donations.ledger import _ledger_totals
from tracker.models import Donation, PeriodTotal, utcnow
from tracker.money import Money

RESULTS = Path(__file__).parent / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fill(engine, size: int):
    """A fresh monthly campaign with `size` confirmed donations, all in the current period."""
    factory = make_sessionmaker(engine)
    with factory() as session:
        campaign = save_campaign(session, CampaignInput(
            slug=f"bench-{size}", title="Bench", target=Money.parse("5000", "USD"), period="monthly",
            status="active"), actor=Actor.cli())
        session.commit()
        campaign_id = campaign.id
    now = utcnow()
    start, _end = period_window("monthly", "UTC", now)
    span = max(now - start, timedelta(seconds=1))
    batch = 20_000
    with engine.begin() as connection:
        for first in range(0, size, batch):
            rows = []
            for index in range(first, min(first + batch, size)):
                minor = 100 + (index * 7919) % 100_000
                rows.append(dict(
                    uid=uuid.uuid4().hex, campaign_id=campaign_id, amount_minor=minor, currency="USD",
                    goal_amount_minor=minor, goal_currency="USD", source="import", external_id=f"b{size}-{index}",
                    status="confirmed", is_public=False, reason="", received_at=start + span * (index / size),
                    period_start=start, recorded_at=now, updated_at=now))
            connection.execute(insert(Donation), rows)
    with factory() as session:
        for row in _ledger_totals(session, campaign_id):
            session.add(PeriodTotal(campaign_id=campaign_id, updated_at=now, **row))
        session.commit()
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
    return campaign_id


def timed(call, repeat: int) -> dict[str, float]:
    """Median and 95th percentile in microseconds, after a warm-up."""
    for _ in range(min(50, repeat)):
        call()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1e6)
    samples.sort()
    return {"median_us": round(statistics.median(samples), 1), "p95_us": round(samples[int(len(samples) * 0.95)], 1)}


def measure(engine, size: int, repeat: int) -> dict:
    began = time.perf_counter()
    campaign_id = fill(engine, size)
    load_seconds = time.perf_counter() - began
    factory = make_sessionmaker(engine)
    with factory() as session:
        from tracker.models import Campaign

        campaign = session.get(Campaign, campaign_id)
        _ = campaign.milestones  # loaded once, as the views do

        def read_progress():
            return campaign_progress(session, campaign)

        def read_sum():
            return session.scalar(select(func.sum(Donation.goal_amount_minor)).where(
                Donation.campaign_id == campaign_id, Donation.status == "confirmed"))

        progress = read_progress()
        ledger_sum = int(read_sum())
        assert progress.raised.minor == ledger_sum, "the kept total disagrees with the ledger"
        # Each call below is a new transaction, as each request is.
        aggregate = timed(lambda: (read_progress(), session.rollback()), repeat)
        naive = timed(lambda: (read_sum(), session.rollback()), max(5, min(repeat, 200_000 // max(size // 100, 1))))
    return {"size": size, "load_seconds": round(load_seconds, 1), "progress": aggregate, "ledger_sum": naive,
            "raised_minor": ledger_sum}


def backends(args) -> list[tuple[str, str]]:
    found = [("sqlite", "")]
    url = os.environ.get("TRACKER_BENCH_PG", DEFAULT_PG)
    try:
        probe = make_engine(url)
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
        probe.dispose()
        found.append(("postgresql", url))
    except Exception as exc:  # noqa: BLE001 - report and go on with SQLite
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}): measuring SQLite only")
    return [b for b in found if b[0] in args.backends]


def run_backend(name: str, url: str, sizes: list[int], repeat: int) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        if name == "sqlite":
            url = f"sqlite:///{folder}/bench.db"
            engine = make_engine(url)
            schema.upgrade(engine)
        else:
            schema_name = f"bench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(url)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
            engine = make_engine(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema_name}")
            schema.upgrade(engine)
        try:
            for size in sizes:
                result = measure(engine, size, repeat)
                print(f"{name:10} {size:>9,} donations: progress {result['progress']['median_us']:>8} µs "
                      f"(p95 {result['progress']['p95_us']}), naive SUM {result['ledger_sum']['median_us']:>10} µs, "
                      f"loaded in {result['load_seconds']} s", flush=True)
                results.append(result)
        finally:
            engine.dispose()
            if name == "postgresql":
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
                admin.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2_000, help="timed progress reads per size")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    report = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                          "cpus": os.cpu_count()}, "date": utcnow().isoformat(timespec="seconds"), "backends": {}}
    for name, url in backends(args):
        report["backends"][name] = rows = run_backend(name, url, args.sizes, args.repeat)
        smallest, largest = rows[0], rows[-1]
        ratio = largest["progress"]["median_us"] / smallest["progress"]["median_us"]
        naive_ratio = largest["ledger_sum"]["median_us"] / smallest["ledger_sum"]["median_us"]
        print(f"{name}: progress at {largest['size']:,} costs {ratio:.2f}× what it costs at {smallest['size']:,} "
              f"(target ≤ 2×); a SUM over the ledger costs {naive_ratio:.0f}×")
        report["backends"][name + "_ratio"] = {"progress": round(ratio, 2), "ledger_sum": round(naive_ratio, 1)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "progress.json").write_text(json.dumps(report, indent=2))
    print(f"written to {RESULTS / 'progress.json'}")


if __name__ == "__main__":
    main()
