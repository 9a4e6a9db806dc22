"""Builders for model objects, so any stage's tests can make a series or statements in memory.

    series = step_series(per_centre=2)            # or cambridge_series(), synthetic_series(n)
    keys = make_keys(tmp_path / "keys")           # a real key store: init_keys + load_keys
    statements = seal_series(series, keys)        # results_online.build.verification.seal
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from results_online.build.verification.seal import seal_series
from results_online.keys.store import KeyStore, init_keys, load_keys
from results_online.model import (
    Candidate,
    Centre,
    Component,
    ComponentResult,
    Entry,
    Family,
    OverallResult,
    Series,
    SeriesInfo,
    Statement,
    Status,
    Test,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"  # the bundled example series

# Names from many scripts, including right-to-left ones and combining marks.
NAMES: tuple[str, ...] = (
    "Zoë Ångström-Łukasiewicz",
    "Νικόλαος Παπαδόπουλος",
    "Анна Кузнецова",
    "فاطمة الزهراء",
    "נועה כהן",
    "अनन्या शर्मा",
    "王小明",
    "Amira 🌟 Haddad",
    "山田 花子",
    "김민준",
    "Siobhán Ó Súilleabháin",
    "Nguyễn Thị Minh Khai",
    "Đorđe Petrović",
)
TODAY = date(2026, 8, 20)
NOW = datetime(2026, 8, 19, 7, 30, tzinfo=UTC)  # when a test's build runs
STEP_BOUNDARIES = {
    "9470": (("S", 96), ("1", 74), ("2", 60), ("3", 45), ("U", 0)),
    "9475": (("S", 90), ("1", 68), ("2", 55), ("3", 40), ("U", 0)),
}
# B2 First: overall scale score → (grade, CEFR), from the published ranges.
FCE_RANGES = ((180, "A", "C1"), (173, "B", "B2"), (160, "C", "B2"), (140, "Level B1", "B1"),
              (122, None, None))


def series_info(**overrides: object) -> SeriesInfo:
    """Series settings for August 2026 results; override any field by keyword."""
    info = SeriesInfo(
        board="Cambridge University Press & Assessment", name="June 2026", code="2026-06",
        year=2026, month=6,
        centres_release=datetime(2026, 8, 19, 8, 0, tzinfo=UTC),
        candidates_release=datetime(2026, 8, 20, 8, 0, tzinfo=UTC),
        available_until=date(2027, 2, 28), issue_date=TODAY,
        verify_url="https://verify.example.org", site_url="https://results.example.org",
        contact="results@example.org",
    )
    return replace(info, **overrides)  # type: ignore[arg-type]


def step_test() -> Test:
    """STEP Mathematics with papers 9470 and 9475 and this year's boundaries."""
    papers = (
        Component("9470", "STEP Mathematics II", 120, boundaries=STEP_BOUNDARIES["9470"]),
        Component("9475", "STEP Mathematics III", 120, boundaries=STEP_BOUNDARIES["9475"]),
    )
    return Test("STEP", "STEP Mathematics", Family.STEP, papers, not_a_certificate=True,
                enquiry_working_days=10, enquiry_calendar_days=None)


def fce_test() -> Test:
    """B2 First: five skills on the Cambridge English Scale."""
    skills = tuple(Component(code, title, 190, min_mark=122) for code, title in (
        ("R", "Reading"), ("U", "Use of English"), ("W", "Writing"), ("L", "Listening"),
        ("S", "Speaking")))
    return Test("FCE", "B2 First", Family.CAMBRIDGE_ENGLISH, skills, not_a_certificate=False,
                enquiry_working_days=None, enquiry_calendar_days=30)


def centres(count: int, recipients: tuple[str, ...] = ()) -> tuple[Centre, ...]:
    """Centres GB001, GB002, … (leading zeros kept)."""
    return tuple(Centre(f"GB{i + 1:03d}", f"Centre {i + 1} School", f"exams{i + 1}@example.org",
                        recipients) for i in range(count))


def candidates(cs: Sequence[Centre], per_centre: int, names: Sequence[str] = NAMES,
               seed: int = 1) -> tuple[Candidate, ...]:
    """per_centre candidates at each centre, names cycling through ``names``."""
    rng = random.Random(seed)
    out = []
    for c in cs:
        for j in range(per_centre):
            n = len(out)
            out.append(Candidate(
                candidate_id=f"C{n + 1:07d}", centre=c.number, number=f"{j + 1:04d}",
                name=names[n % len(names)], email=f"candidate{n + 1}@example.org",
                secret=f"{rng.randrange(10**6):06d}"))
    return tuple(out)


def step_grade(component: Component, mark: int) -> str:
    """The grade a STEP mark earns under the component's boundaries."""
    return next(g for g, low in component.boundaries if mark >= low)


def step_entry(candidate: Candidate, test: Test, marks: Sequence[int | Status]) -> Entry:
    """A STEP entry; each item is a mark or a result code."""
    results = tuple(
        ComponentResult(comp, m, None, None) if isinstance(m, Status)
        else ComponentResult(comp, Status.OK, m, step_grade(comp, m))
        for comp, m in zip(test.components, marks, strict=True))
    return Entry(candidate, test, results, None)


def fce_overall(scores: Sequence[int]) -> OverallResult:
    """Overall score (mean, halves rounded up), grade and CEFR for B2 First."""
    score = (2 * sum(scores) + len(scores)) // (2 * len(scores))
    grade, cefr = next((g, c) for low, g, c in FCE_RANGES if score >= low)
    return OverallResult(Status.OK, score, grade, cefr)


def fce_entry(candidate: Candidate, test: Test, scores: Sequence[int | Status]) -> Entry:
    """A B2 First entry; each item is a scale score or a result code."""
    results = tuple(
        ComponentResult(comp, s, None, None) if isinstance(s, Status)
        else ComponentResult(comp, Status.OK, s, None)
        for comp, s in zip(test.components, scores, strict=True))
    codes = [s for s in scores if isinstance(s, Status)]
    if codes:
        overall = OverallResult(_overall_code(codes, len(scores)), None, None, None)
    else:
        overall = fce_overall([s for s in scores if isinstance(s, int)])
    return Entry(candidate, test, results, overall)


def _overall_code(codes: Sequence[Status], n_skills: int) -> Status:
    if len(codes) == n_skills and all(c is Status.ABSENT for c in codes):
        return Status.ABSENT
    for code in (Status.PENDING, Status.WITHHELD):
        if code in codes:
            return code
    return Status.ABSENT_FROM_PART


def step_series(per_centre: int = 3, n_centres: int = 2, names: Sequence[str] = NAMES,
                seed: int = 1, with_codes: bool = True) -> Series:
    """A STEP series; with_codes puts X/Pending/Withheld/Z on the last few candidates."""
    test = step_test()
    cs = centres(n_centres)
    cands = candidates(cs, per_centre, names, seed)
    rng = random.Random(seed)
    codes: list[list[int | Status]] = [[Status.ABSENT, 88], [Status.PENDING, Status.PENDING],
                                       [Status.WITHHELD, 40], [Status.ABSENT, Status.ABSENT]]
    entries = []
    for i, cand in enumerate(cands):
        marks: list[int | Status] = [rng.randrange(20, 121), rng.randrange(20, 121)]
        if with_codes and i >= len(cands) - len(codes):
            marks = codes[len(cands) - 1 - i]
        entries.append(step_entry(cand, test, marks))
    return Series(series_info(board="OCR"), (test,), cs, cands, tuple(entries))


def cambridge_series(per_centre: int = 3, n_centres: int = 2, names: Sequence[str] = NAMES,
                     seed: int = 2, with_codes: bool = True) -> Series:
    """A B2 First series; with_codes gives the last candidates X, Pending and Z results."""
    test = fce_test()
    cs = centres(n_centres)
    cands = candidates(cs, per_centre, names, seed)
    rng = random.Random(seed)
    codes: list[list[int | Status]] = [[Status.ABSENT] * 5, [170, Status.PENDING, 170, 170, 170],
                                       [170, 165, Status.ABSENT, 180, 175]]
    entries = []
    for i, cand in enumerate(cands):
        base = rng.randrange(130, 186)
        scores: list[int | Status] = [min(190, max(122, base + rng.randrange(-8, 9)))
                                      for _ in test.components]
        if with_codes and i >= len(cands) - len(codes):
            scores = codes[len(cands) - 1 - i]
        entries.append(fce_entry(cand, test, scores))
    return Series(series_info(), (test,), cs, cands, tuple(entries))


def synthetic_series(n: int, per_centre: int = 200, seed: int = 3) -> Series:
    """About n candidates, half STEP and half B2 First, per_centre to a centre (benchmarks)."""
    n_centres = max(1, -(-n // per_centre))
    step = step_series(per_centre // 2 or 1, n_centres, seed=seed, with_codes=False)
    fce = cambridge_series(per_centre - per_centre // 2, n_centres, seed=seed, with_codes=False)
    renumbered = [replace(e, candidate=replace(e.candidate, candidate_id=f"F{i:07d}",
                                               number=f"9{e.candidate.number}"))
                  for i, e in enumerate(fce.entries)]
    entries = (*step.entries, *renumbered)[:n]
    cands = tuple(e.candidate for e in entries)
    return Series(step.info, (*step.tests, *fce.tests), step.centres, cands, entries)


def make_keys(folder: Path, today: date = TODAY) -> KeyStore:
    """A fresh key store in ``folder`` (init_keys), loaded for signing."""
    init_keys(folder, today)
    return load_keys(folder)


def sealed(series: Series, key_dir: Path) -> tuple[Statement, ...]:
    """The series' statements, signed with a new key store made in ``key_dir``."""
    return seal_series(series, make_keys(key_dir))
