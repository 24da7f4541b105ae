"""Benchmark: `tracker import` of a 100,000-row CSV, and `tracker export` (CSV and JSON) in rows per second.

Runs the real command (`python -m tracker`) against a fresh database, so the figures include
parsing, checking, the set-based insert and the totals; on SQLite and, when reachable, on
PostgreSQL. Results go to bench/results/transfer.json and are copied into docs/performance.md.

    python bench/transfer.py                  # 100,000 rows
    python bench/transfer.py --rows 20000     # a quicker look
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


def tracker(config: Path, *args: str) -> float:
    """Run one `tracker` command; its wall time in seconds."""
    env = {**os.environ, "TRACKER_CONFIG": str(config)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tracker", *args], cwd=config.parent, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def run(url: str, rows: int, work: Path) -> dict[str, float]:
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
    csv_out = tracker(config, "export", "--format", "csv", "-o", str(work / "out.csv"))
    json_out = tracker(config, "export", "--format", "json", "-o", str(work / "out.json"))
    return {"rows": rows, "import_seconds": round(imported, 2), "reimport_seconds": round(again, 2),
            "export_csv_rows_per_second": round(rows / csv_out), "export_json_rows_per_second": round(rows / json_out),
            "export_csv_seconds": round(csv_out, 2), "export_json_seconds": round(json_out, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        results["sqlite"] = run(f"sqlite:///{work / 'bench.db'}", args.rows, work)
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
                results["postgresql"] = run(f"{pg}?options=-csearch_path%3D{schema_name}", args.rows, work)
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
