"""The scale score converter: an old standardised score (0 to 100) to the Cambridge English Scale.

Before 2015, B2 First, C1 Advanced and C2 Proficiency reported a standardised score
out of 100 with fixed grade boundaries: grade A from 80, B from 75, C from 60 and
the level below from 45. The same grades now start at the Cambridge English Scale
scores in ``rules.EXAMS`` (B2 First: A 180, B 173, C 160, B1 140, top 190). The
converter maps each boundary onto its scale score and interpolates linearly in
between, rounding halves up; below 45 there was no certificate and no mapping.
A2 Key and B1 Preliminary used pass/merit/distinction before moving to the scale
in 2016, so they are not converted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from results_online.build.grading.rules import EXAMS, round_half_up

CONVERTIBLE = ("FCE", "CAE", "CPE")
LOWEST = 45  # the lowest standardised score that earned a certificate
OLD_BOUNDARIES = {"A": 80, "B": 75, "C": 60}
SOURCE = ("Cambridge English: grade boundaries of the standardised scores used until "
          "2015 (A 80, B 75, C 60, level below 45, out of 100) and the published Cambridge "
          "English Scale score ranges of each exam")


@dataclass(frozen=True)
class Conversion:
    """One exam's conversion table: every standardised score from 45 to 100."""

    code: str
    name: str
    anchors: tuple[tuple[int, int], ...]  # (standardised score, scale score), ascending
    rows: tuple[tuple[int, int], ...]


def anchors(code: str) -> tuple[tuple[int, int], ...]:
    """The (standardised, scale) boundary pairs of an exam, lowest first."""
    if code not in CONVERTIBLE:
        raise ValueError(f"no standardised score conversion for {code!r}")
    exam = EXAMS[code]
    pairs = [(100, exam.high)]
    for band in exam.bands:
        if band.grade in OLD_BOUNDARIES:
            pairs.append((OLD_BOUNDARIES[band.grade], band.low))
        elif band.grade is not None:  # the certificate at the level below
            pairs.append((LOWEST, band.low))
    return tuple(sorted(pairs))


def convert(code: str, standardised: int) -> int:
    """The Cambridge English Scale score for an old standardised score; ValueError if none."""
    if not LOWEST <= standardised <= 100:
        raise ValueError(f"standardised scores from {LOWEST} to 100 convert; got {standardised}")
    points = anchors(code)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x0 <= standardised <= x1:
            return round_half_up(y0 + Fraction(y1 - y0, x1 - x0) * (standardised - x0))
    raise ValueError(f"no conversion for {standardised}")  # unreachable: anchors span 45 to 100


def conversions() -> tuple[Conversion, ...]:
    """The tables the converter page shows, one per convertible exam."""
    return tuple(
        Conversion(code, EXAMS[code].name, anchors(code),
                   tuple((s, convert(code, s)) for s in range(LOWEST, 101)))
        for code in CONVERTIBLE)
