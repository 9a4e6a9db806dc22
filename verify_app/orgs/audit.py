"""The audit log as CSV, for the organisation (API) and the operator (`results orgs audit`)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from results_online.verify_app.orgs.store import AuditEntry

AUDIT_COLUMNS = ("time", "key_id", "request_id", "row", "statement_id", "outcome")


def write_audit_csv(entries: Iterable[AuditEntry], out: TextIO, *, header: bool = True) -> int:
    """Write the entries as CSV (UTC times, ISO 8601); return how many."""
    w = csv.writer(out, lineterminator="\r\n")
    if header:
        w.writerow(AUDIT_COLUMNS)
    n = 0
    for e in entries:
        w.writerow([e.at.isoformat(timespec="seconds"), e.key_id, e.request_id, e.row,
                    e.statement_id or "", e.outcome])
        n += 1
    return n
