"""A small real build of the STEP example (two centres, two candidates each) for release tests.

STEP example times: centres' release 2026-08-12 08:00+01:00, candidates' release
2026-08-13 08:00+01:00, available until 2027-06-01.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from factories import EXAMPLES

from results_online.build.pipeline import build
from results_online.config import build_config
from results_online.keys.seal import init_seal_cert
from results_online.keys.store import init_keys

EXAMPLE = EXAMPLES / "step-2026-06"
SERIES_CODE = "2026-06"
BEFORE_ANY = "2026-08-10T09:00:00+00:00"
BETWEEN = datetime.fromisoformat("2026-08-12T12:00:00+00:00")
AFTER_BOTH = datetime.fromisoformat("2026-08-13T07:30:00+00:00")
JUST_BEFORE_CENTRES = datetime.fromisoformat("2026-08-12T06:59:59+00:00")
JUST_BEFORE_CANDIDATES = datetime.fromisoformat("2026-08-13T06:59:59+00:00")
AFTER_WITHDRAWAL = datetime.fromisoformat("2027-06-02T00:00:01+01:00")


@dataclass(frozen=True)
class SmallBuild:
    """A built OUT folder, its key store and who is in it."""

    out: Path
    keys: Path
    centres: dict[str, str]  # centre number -> e-mail
    candidates: list[dict[str, str]]  # rows of candidates.csv that were kept


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a series CSV (Excel's BOM allowed)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows back as a series CSV, columns in their first row's order."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def small_build(tmp: Path, now: str = BEFORE_ANY, seal: str | None = None) -> SmallBuild:
    """Build two candidates at each of the example's first two centres, at ``now``.

    With ``seal`` (a name), the key store gets a PDF seal certificate for that name.
    """
    series = tmp / "series"
    shutil.copytree(EXAMPLE, series)
    by_centre: dict[str, list[dict[str, str]]] = {}
    for c in read_rows(series / "candidates.csv"):
        by_centre.setdefault(c["centre_number"], []).append(c)
    keep = {c: rows[:2] for c, rows in list(by_centre.items())[:2]}
    kept = [c for rows in keep.values() for c in rows]
    ids = {c["candidate_id"] for c in kept}
    write_rows(series / "candidates.csv", kept)
    centres = [r for r in read_rows(series / "centres.csv") if r["centre_number"] in keep]
    write_rows(series / "centres.csv", centres)
    write_rows(series / "results.csv",
           [r for r in read_rows(series / "results.csv") if r["candidate_id"] in ids])
    keys = tmp / "keys"
    init_keys(keys, date(2026, 8, 1))
    if seal is not None:
        init_seal_cert(keys, seal, datetime(2026, 8, 1, tzinfo=UTC))
    out = tmp / "out"
    build(build_config(str(series), str(keys), str(out), now=now, workers=1))
    return SmallBuild(out, keys, {r["centre_number"]: r["email"] for r in centres}, kept)
