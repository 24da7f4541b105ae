"""Benchmark: `tracker import` of a 100,000-row CSV, and `tracker export` (CSV and JSON) in rows per second.

Runs the real command (`python -m tracker`) against a fresh database, so the figures include
parsing, checking, the set-based insert and the totals; on SQLite and, when reachable, on
PostgreSQL. The export is timed twice: of the imported ledger, and after the ledger is filled
up (set-based, as bench/scale.py does) to a million gifts, the size the Scale issue measured
it at; each with the command's peak memory. At both sizes the admin's CSV download is timed
too, through `tracker serve` (one gunicorn worker) with the worker's memory. Results go to
bench/results/transfer.json and are copied into docs/performance.md.

    python bench/transfer.py                                  # 100,000 rows, export also at 1,000,000
    python bench/transfer.py --rows 20000 --export-rows 0     # a quicker look
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.db import make_engine  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def write_csv(path: Path, rows: int) -> None:
    """A donations CSV of `rows` gifts in one campaign, a tenth of them in EUR (converted)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["campaign", "amount", "currency", "received_at", "external_id", "donor_name", "message"])
        for index in range(rows):
            currency = "EUR" if index % 10 == 0 else "USD"
            day = 1 + index % 28
            writer.writerow(["bench", f"{1 + index % 500}.{index % 100:02d}", currency,
                             f"2026-11-{day:02d}T{index % 24:02d}:00:00+00:00", f"bank-{index}",
                             f"Reader {index}", "Thank you" if index % 3 == 0 else ""])


def _peak_kb(pid: int) -> int:
    """The process's resident high-water mark (VmHWM), 0 when it can no longer be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measured(config: Path, *args: str) -> tuple[float, int]:
    """Run one `tracker` command; its wall time in seconds and its peak resident memory in MB.

    The peak is read from /proc while the command runs (every 50 ms; the high-water mark only
    grows): getrusage's ru_maxrss of a child counts the forking parent's memory too.
    """
    env = {**os.environ, "TRACKER_CONFIG": str(config)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "tracker", *args], cwd=config.parent, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _peak_kb(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"tracker {' '.join(args)} failed with {process.returncode}")
    return seconds, peak // 1024


def tracker(config: Path, *args: str) -> float:
    """Run one `tracker` command; its wall time in seconds."""
    return measured(config, *args)[0]


def fill_up(url: str, rows: int) -> None:
    """Add gifts to campaign "bench" until the ledger holds `rows`, set-based (as bench/scale.py fills)."""
    from datetime import datetime, timedelta, timezone

    from ledger_fill import gift, insert_gifts
    from sqlalchemy import func, select

    from tracker.donations.ledger import rebuild_totals
    from tracker.models import Campaign, Donation

    engine = make_engine(url)
    with engine.begin() as connection:
        have = connection.scalar(select(func.count()).select_from(Donation)) or 0
        campaign = connection.scalar(select(Campaign.id).where(Campaign.slug == "bench"))
        now = datetime.now(timezone.utc)
        insert_gifts(connection, (
            gift(campaign, 100 + index % 50_000, now, external_id=f"fill-{index}", donor_name=f"Reader {index}",
                 message="Thank you" if index % 3 == 0 else None, is_public=index % 2 == 0,
                 received_at=now - timedelta(seconds=index))
            for index in range(have, rows)))
    from tracker.db import make_sessionmaker
    with make_sessionmaker(engine)() as session:
        rebuild_totals(session, session.get(Campaign, campaign))
        session.commit()
    engine.dispose()


def export_figures(config: Path, work: Path, rows: int, label: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    for fmt in ("csv", "json"):
        seconds, memory = measured(config, "export", "--format", fmt, "-o", str(work / f"out.{fmt}"))
        figures.update({f"{label}export_{fmt}_seconds": round(seconds, 2),
                        f"{label}export_{fmt}_rows_per_second": round(rows / seconds),
                        f"{label}export_{fmt}_peak_mb": memory})
    figures.update({f"{label}download_{key}": value for key, value in admin_download(config, work, rows).items()})
    return figures


ADMIN_EMAIL, ADMIN_PASSWORD = "bench@example.org", "bench admin password 0123"


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_kb(pid: int, field: str = "VmRSS:") -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith(field)), 0)


def admin_download(config: Path, work: Path, rows: int) -> dict[str, float]:
    """The admin's CSV download (/admin/donations/export.csv) through `tracker serve`, as a browser gets it.

    One gunicorn worker (the production server of `tracker serve`, gthread, 30 s timeout); a
    signed-in owner downloads the whole ledger; the figures are the download's time, its
    rows per second, the worker's resident memory before it and at its highest during it (read
    after every megabyte that arrives), and the worker's high-water mark (VmHWM) before and after.
    The rows are counted in what arrived, so a download cut short by a worker timeout fails here.
    """
    import http.cookiejar
    import re
    import socket
    import urllib.parse
    import urllib.request

    env = {**os.environ, "TRACKER_CONFIG": str(config)}
    # Refused (and harmless) when the account is there from the first call on this database.
    subprocess.run([sys.executable, "-m", "tracker", "create-admin", ADMIN_EMAIL, "--password-stdin"],
                   env=env, check=False, capture_output=True, input=f"{ADMIN_PASSWORD}\n".encode())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = next(line for line in config.read_text().splitlines() if line.startswith("url"))
    served = work / "serve.toml"
    served.write_text(f'environment = "production"\ninstance_path = "{work / "instance"}"\n'
                      f'[site]\nurl = "http://127.0.0.1:{port}"\n'
                      f'[security]\nsecret_key = "bench-secret-0123456789abcdef"\nsecure_cookies = false\n'
                      f'[database]\n{database}\n[server]\nworkers = 1\n', encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", str(port)], cwd=work,
                              env={**env, "TRACKER_CONFIG": str(served)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = opener.open(base + "/admin/login", timeout=10).read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("tracker serve did not answer") from None
                time.sleep(0.3)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page)
        form = urllib.parse.urlencode({"csrf_token": token[1] if token else "", "email": ADMIN_EMAIL,
                                       "password": ADMIN_PASSWORD, "next": ""}).encode()
        if "/login" in opener.open(base + "/admin/login", data=form, timeout=10).geturl():
            raise SystemExit("could not sign in to the admin")
        opener.open(base + "/admin/donations", timeout=30).read()  # warm: the worker as it serves pages
        [worker] = _children(server.pid)
        before, high_before, peak = _rss_kb(worker), _rss_kb(worker, "VmHWM:"), 0
        started = time.perf_counter()
        lines = size = 0
        with opener.open(base + "/admin/donations/export.csv", timeout=60) as response:
            while chunk := response.read(1 << 20):
                lines += chunk.count(b"\n")
                size += len(chunk)
                peak = max(peak, _rss_kb(worker))
        seconds = time.perf_counter() - started
        high_after = _rss_kb(worker, "VmHWM:")
        if lines - 1 < rows:  # quoted line breaks can only add lines
            raise SystemExit(f"the download stopped after {lines - 1} of {rows} rows")
        if _children(server.pid) != [worker]:
            raise SystemExit("the worker was replaced during the download (a timeout?)")
        return {"seconds": round(seconds, 2), "rows_per_second": round(rows / seconds), "megabytes": size >> 20,
                "worker_mb_before": before // 1024, "worker_peak_mb": peak // 1024,
                "worker_high_water_mb_before": high_before // 1024, "worker_high_water_mb_after": high_after // 1024}
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(url: str, rows: int, work: Path, export_rows: int) -> dict[str, float]:
    config = work / "config.toml"
    config.write_text(f'environment = "testing"\n[security]\nsecret_key = "bench-secret-0123456789"\n'
                      f'[database]\nurl = "{url}"\n', encoding="utf-8")
    tracker(config, "db", "upgrade")
    # A campaign and a EUR rate, through the command line as a publisher would.
    backup = {"format": "reader-support-tracker", "version": 1, "campaigns": [{
        "slug": "bench", "title": "Bench", "currency": "USD", "target": "50000", "period": "monthly",
        "timezone": "Europe/Berlin", "status": "active", "milestones": []}],
        "exchange_rates": [{"base": "EUR", "quote": "USD", "rate": "1.08", "as_of": "2026-10-31T00:00:00+00:00",
                            "source": "bench"}]}
    (work / "setup.json").write_text(json.dumps(backup), encoding="utf-8")
    tracker(config, "import", str(work / "setup.json"))
    source = work / "gifts.csv"
    write_csv(source, rows)
    imported = tracker(config, "import", str(source))
    again = tracker(config, "import", str(source))  # every row already present: all skipped
    figures: dict[str, float] = {"rows": rows, "import_seconds": round(imported, 2),
                                 "reimport_seconds": round(again, 2)}
    figures.update(export_figures(config, work, rows, ""))
    if export_rows > rows:
        fill_up(url, export_rows)
        figures["export_rows"] = export_rows
        figures.update(export_figures(config, work, export_rows, "large_"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000,
                        help="fill the ledger up to this many gifts and time the export again (0: do not)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        results["sqlite"] = run(f"sqlite:///{work / 'bench.db'}", args.rows, work, args.export_rows)
        pg = os.environ.get("TRACKER_BENCH_PG", DEFAULT_PG)
        schema_name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(pg)
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
        except Exception as exc:  # noqa: BLE001 - PostgreSQL is optional for this benchmark
            print(f"PostgreSQL not measured: {exc}", file=sys.stderr)
        else:
            try:
                results["postgresql"] = run(f"{pg}?options=-csearch_path%3D{schema_name}", args.rows, work,
                                            args.export_rows)
            finally:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        admin.dispose()
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
               "date": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "transfer.json").write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    print(json.dumps({"machine": machine, "results": results}, indent=1))


if __name__ == "__main__":
    main()
