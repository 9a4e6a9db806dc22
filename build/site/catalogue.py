"""The public catalogue of a series: its board, tests and their papers or skills, by code.

The QR code carries codes only ("CAE", "R", "9470") to stay small; the verify page
reads this file to show them as the statement does (board, test title, paper and
skill titles). It holds no personal data: nothing in it names a candidate, a
centre or a result. The site publishes it as ``catalogue/<YYYY-MM>.json`` (the
token's series, as the status list is named) and the verification app serves
the same document from its index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from results_online.model import SeriesInfo, Test

CATALOGUE_FORMAT = 1


def catalogue_path(year: int, month: int) -> str:
    """Where the catalogue of a series is served: catalogue/2026-06.json."""
    return f"catalogue/{year:04d}-{month:02d}.json"


def catalogue(info: SeriesInfo, tests: Iterable[Test]) -> dict[str, object]:
    """The catalogue document of a series."""
    return {
        "format": CATALOGUE_FORMAT,
        "board": info.board, "contact": info.contact, "series": info.name,
        "site_url": info.site_url, "verify_url": info.verify_url,
        "tests": {t.code: {"name": t.name, "family": t.family.value,
                           "not_a_certificate": t.not_a_certificate,
                           "components": {c.code: c.title for c in t.components}}
                  for t in tests},
    }


def catalogue_json(info: SeriesInfo, tests: Iterable[Test]) -> str:
    """The catalogue as the file the site and the app serve."""
    return json.dumps(catalogue(info, tests), ensure_ascii=False, indent=1) + "\n"
