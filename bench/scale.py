"""Benchmark: every public and admin page at 1,000 and at 1,000,000 gifts, as a ratio measured in one run.

Two databases side by side, the same campaign in each, one with the small ledger and one
with the large; every page is requested through the app (in process, a signed-in owner for
the admin pages), the two databases interleaved, and the median of several rounds taken. The
ratio large/small is what counts: the issue's target is at most 2x for every page.

    python bench/scale.py                          # SQLite, then PostgreSQL if reachable
    python bench/scale.py --large 100000 --rounds 5
    TRACKER_BENCH_PG=postgresql+psycopg://… python bench/scale.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger_fill import gift, insert_gifts  # noqa: E402
from sqlalchemy import text  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from tracker import create_app, schema  # noqa: E402
from tracker.audit import Actor  # noqa: E402
from tracker.campaigns.operations import CampaignInput, get_campaign, save_campaign  # noqa: E402
from tracker.config import load_settings  # noqa: E402
from tracker.db import make_engine, make_sessionmaker  # noqa: E402
from tracker.donations.ledger import rebuild_totals  # noqa: E402
from tracker.models import User, utcnow  # noqa: E402
from tracker.money import Money  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench password 0123456789"
PENDING_EVERY = 17
PAGES = ["/support", "/c/big", "/widget/big", "/widget/big.svg", "/api/v1/campaigns/big", "/admin/",
         "/admin/donations", "/admin/donations?page=deep", "/admin/donations?status=pending",
         "/admin/donations?campaign=1", "/admin/audit", "/admin/campaigns/big"]


def fill(url: str, size: int) -> None:
    engine = make_engine(url)
    schema.upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory() as session:
        save_campaign(session, CampaignInput(slug="big", title="Big", target=Money.parse("5000000", "USD"),
                                             period="monthly", status="active"), actor=Actor.cli())
        session.add(User(email="owner@example.org", password_hash=generate_password_hash(PASSWORD, method="scrypt"),
                         role="owner"))
        session.commit()
    now = utcnow()
    # Every 17th gift pending: 59 at 1,000 gifts, so the pending list shows a full page (50)
    # at both sizes. At every 97th the small ledger's page held 10 rows and the large one's
    # 50, and that difference was most of what the ratio measured (1.55-1.94x).
    with engine.begin() as connection:
        insert_gifts(connection, (
            gift(1, 100 + index % 5000, now, external_id=f"b{index}", donor_name=f"Reader {index}",
                 status="pending" if index % PENDING_EVERY == 0 else "confirmed", is_public=index % 3 == 0,
                 received_at=now - timedelta(seconds=index * 2))
            for index in range(size)))
    with factory() as session:
        rebuild_totals(session, get_campaign(session, "big"))
        session.commit()
    if engine.dialect.name == "postgresql":
        # VACUUM as well as ANALYZE: otherwise autovacuum starts on the million new rows while
        # the pages are timed (a core of this 2-vCPU machine), and the visibility map that
        # index-only scans use is not there yet; a ledger that has been in use has both.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def client_for(url: str, instance: Path) -> Any:
    settings = load_settings(path=None, env={}, overrides={
        "environment": "testing", "instance_path": str(instance), "database.url": url,
        "security.secret_key": "bench-secret-0123456789", "security.secure_cookies": False,
        "widget.process_cache_seconds": 0, "widget.render_budget_per_minute": 1_000_000,
        "security.login_rate_limit": "1000 per minute"})
    app = create_app(settings)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/admin/login", data={"email": "owner@example.org", "password": PASSWORD}).status_code == 302
    return client


def deep_link(client: Any) -> str:
    """The admin list 20 pages down, followed by its own "Older" links (keyset cursors)."""
    import re

    url = "/admin/donations"
    for _ in range(20):
        found = re.search(r'href="(/admin/donations\?older=[^"]+)"', client.get(url).get_data(as_text=True))
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    return url


def time_page(client: Any, url: str, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        response = client.get(url)
        response.get_data()
        assert response.status_code == 200, (url, response.status_code)
    return (time.perf_counter() - started) / repeat * 1000


def measure(small_url: str, large_url: str, work: Path, rounds: int) -> list[dict[str, Any]]:
    clients = {"small": client_for(small_url, work / "small"), "large": client_for(large_url, work / "large")}
    urls = {name: {page: (deep_link(client) if page.endswith("page=deep") else page) for page in PAGES}
            for name, client in clients.items()}
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for page in PAGES:
            for name, client in clients.items():  # interleaved: a slow moment hits both alike
                samples.setdefault((page, name), []).append(time_page(client, urls[name][page], 3))
    rows = []
    for page in PAGES:
        small = statistics.median(samples[(page, "small")])
        large = statistics.median(samples[(page, "large")])
        rows.append({"page": page, "small_ms": round(small, 2), "large_ms": round(large, 2),
                     "ratio": round(large / small, 2)})
    return rows


def export_rate(url: str, rows: int) -> float:
    """Rows per second of the streamed CSV export of the large ledger (in process)."""
    from tracker.donations.export import csv_lines

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in csv_lines(session))
        seconds = time.perf_counter() - started
    engine.dispose()
    return round(rows / seconds) if size else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        small, large = f"sqlite:///{work / 'small.db'}", f"sqlite:///{work / 'large.db'}"
        for url, size in ((small, args.small), (large, args.large)):
            started = time.perf_counter()
            fill(url, size)
            print(f"sqlite: {size} gifts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        results["sqlite"] = {"pages": measure(small, large, work / "sqlite", args.rounds),
                             "export_csv_rows_per_second": export_rate(large, args.large)}
        pg = os.environ.get("TRACKER_BENCH_PG", DEFAULT_PG)
        names = [f"scale_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        admin = make_engine(pg)
        try:
            with admin.begin() as connection:
                for name in names:
                    connection.execute(text(f'CREATE SCHEMA "{name}"'))
        except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional here
            print(f"PostgreSQL not measured: {exc}", file=sys.stderr)
        else:
            try:
                small, large = (f"{pg}?options=-csearch_path%3D{name}" for name in names)
                for url, size in ((small, args.small), (large, args.large)):
                    started = time.perf_counter()
                    fill(url, size)
                    print(f"postgresql: {size} gifts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
                results["postgresql"] = {"pages": measure(small, large, work / "pg", args.rounds),
                                         "export_csv_rows_per_second": export_rate(large, args.large)}
            finally:
                with admin.begin() as connection:
                    for name in names:
                        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
               "date": time.strftime("%Y-%m-%d"), "small": args.small, "large": args.large, "rounds": args.rounds}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    print(json.dumps({"machine": machine, "results": results}, indent=1))


if __name__ == "__main__":
    main()
