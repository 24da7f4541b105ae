"""Filling a benchmark's ledger to a million gifts: set-based inserts, not the ledger's one-at-a-time path.

Shared by bench/scale.py and bench/transfer.py. The totals are rebuilt by the caller
(`rebuild_totals`), as after an import.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Connection, insert

from tracker.models import Donation

BATCH = 20_000


def gift(campaign_id: int, minor: int, now: datetime, **values: Any) -> dict[str, Any]:
    """A confirmed USD gift of `minor` cents as a row of the donation table; `values` override."""
    return {"uid": uuid.uuid4().hex, "campaign_id": campaign_id, "amount_minor": minor, "currency": "USD",
            "goal_amount_minor": minor, "goal_currency": "USD", "source": "import", "status": "confirmed",
            "message": None, "is_public": False, "reason": "", "received_at": now, "period_start": now,
            "recorded_at": now, "updated_at": now, **values}


def insert_gifts(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Insert `rows` BATCH at a time (one executemany each)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            connection.execute(insert(Donation), batch)
            batch = []
    if batch:
        connection.execute(insert(Donation), batch)
