"""LOAD stage: the bundled examples load, and every validation rule reports file, row, column."""

from __future__ import annotations

from pathlib import Path

from results_online.build.load import load_series

from results_online.model import Family, Status

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_step_example_loads() -> None:
    series = load_series(EXAMPLES / "step-2026-06")
    assert series.info.code == "2026-06"
    assert [t.code for t in series.tests] == ["STEP"]
    assert series.tests[0].family is Family.STEP
    assert [c.code for c in series.tests[0].components] == ["9470", "9475"]
    assert len(series.centres) == 3 and len(series.candidates) >= 10
    statuses = {r.status for e in series.entries for r in e.components}
    assert {Status.ABSENT_FROM_PART, Status.ABSENT, Status.PENDING, Status.WITHHELD} <= statuses


def test_cambridge_example_loads() -> None:
    series = load_series(EXAMPLES / "cambridge-2026-06")
    assert {"KET", "FCE", "CAE"} <= {t.code for t in series.tests}
    assert len(series.centres) == 3 and len(series.candidates) >= 15
    assert all(e.overall is not None for e in series.entries)
