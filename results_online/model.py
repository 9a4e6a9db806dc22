"""The typed domain: a validated exam series and the statements built from it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from results_online.dates import BOARD_TIME_ZONE


class Family(enum.StrEnum):
    """Which kind of results a test reports."""

    STEP = "step"  # per-paper grade S/1/2/3/U with marks
    CAMBRIDGE_ENGLISH = "cambridge_english"  # per-skill scale scores, overall grade and CEFR


class Status(enum.StrEnum):
    """Why a component or overall result carries no normal result."""

    OK = "OK"
    ABSENT_FROM_PART = "X"
    ABSENT = "Z"
    PENDING = "Pending"
    WITHHELD = "Withheld"


@dataclass(frozen=True)
class Component:
    """One paper (STEP) or skill (Cambridge English) of a test."""

    code: str  # "9470", or a skill code: R, W, L, S, U (Use of English), RW
    title: str  # "STEP Mathematics II", "Reading"
    max_mark: int  # STEP: 120; Cambridge English: top of the reported scale
    min_mark: int = 0  # Cambridge English: bottom of the reported scale
    weight: int = 1  # A2 Key counts Reading & Writing twice
    # STEP only: lowest mark for each grade, best first, e.g. (("S", 95), ("1", 75), ...)
    boundaries: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Test:
    """A test in the series, e.g. STEP or B2 First."""

    code: str  # short, ASCII: "STEP", "KET", "PET", "FCE", "CAE", "CPE"
    name: str  # "STEP Mathematics", "B2 First"
    family: Family
    components: tuple[Component, ...]
    not_a_certificate: bool  # print "This is not a certificate"
    enquiry_working_days: int | None  # results-enquiry deadline after release...
    enquiry_calendar_days: int | None  # ...in working days or in calendar days
    explanation: str = ""  # what the results mean, shown to candidates and centres
    enquiry_url: str = ""  # the board's results-enquiry application, shown until the deadline
    appeal_url: str = ""  # the board's appeal application


@dataclass(frozen=True)
class SeriesInfo:
    """The series-wide settings from series.toml."""

    board: str  # "OCR", "Cambridge University Press & Assessment"
    name: str  # "June 2026"
    code: str  # "2026-06": safe in file names and URLs
    year: int
    month: int
    centres_release: datetime  # aware
    candidates_release: datetime  # aware
    available_until: date
    issue_date: date
    verify_url: str  # "https://verify.example.org" (no trailing slash)
    site_url: str  # "https://results.example.org" (no trailing slash)
    contact: str = ""  # how to reach the board
    time_zone: str = BOARD_TIME_ZONE.key  # IANA name: withdrawal and the board's days

    @property
    def zone(self) -> ZoneInfo:
        """The board's time zone."""
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Centre:
    """A centre (school) and the age recipients its bundle is encrypted to."""

    number: str  # keeps leading zeros: "GB599", "04123"
    name: str
    email: str
    recipients: tuple[str, ...]  # age X25519 public keys, "age1…"


@dataclass(frozen=True)
class Candidate:
    """A candidate: the ID and secret number they verify with, and where they sat."""

    candidate_id: str  # board-wide ID, printed on the Confirmation of Entry
    centre: str  # centre number
    number: str  # candidate number at the centre, keeps leading zeros
    name: str
    email: str
    secret: str  # the secret number: digits, at least 4; private


@dataclass(frozen=True)
class ComponentResult:
    """A candidate's result in one paper or skill."""

    component: Component
    status: Status
    mark: int | None  # marks (STEP) or scale score (Cambridge English)
    grade: str | None  # STEP: S/1/2/3/U; Cambridge English skills: None


@dataclass(frozen=True)
class OverallResult:
    """A Cambridge English overall result: score, grade and CEFR level."""

    status: Status
    score: int | None
    grade: str | None  # "A", "B", "C", "Level B1" (certificate at the level below), or None
    cefr: str | None  # "C1", "B2", … or None when no level is reported


@dataclass(frozen=True)
class Entry:
    """One candidate's results in one test."""

    candidate: Candidate
    test: Test
    components: tuple[ComponentResult, ...]
    overall: OverallResult | None  # None for STEP, which has no overall result
    revision: int = 1  # bumped when a results enquiry changes this entry


@dataclass(frozen=True)
class Series:
    """A whole validated series: what `load` returns and every later stage reads."""

    info: SeriesInfo
    tests: tuple[Test, ...]
    centres: tuple[Centre, ...]
    candidates: tuple[Candidate, ...]
    entries: tuple[Entry, ...]

    def centre(self, number: str) -> Centre:
        """The centre with this number."""
        for c in self.centres:
            if c.number == number:
                return c
        raise KeyError(number)


@dataclass(frozen=True)
class Statement:
    """A signed Statement of Results: one entry, its id, its token and QR text."""

    statement_id: str  # Crockford base32 of the 10 id bytes, 16 characters
    entry: Entry
    centre: Centre
    series: SeriesInfo
    token: bytes
    issue_date: date
    key_id: str = field(default="")  # hex of the signing key id
    enquiry_deadline: date | None = None  # last day for a results enquiry (through the centre)
    share_code: str = field(default="", repr=False)  # ids.share_code: the strong proof to verify

    @property
    def qr_text(self) -> str:
        """What its QR code says: https://<verify host>/q#<the token's digits>."""
        # Made when asked, not kept: a rebuild seals 10,000s of statements it never prints.
        from results_online.token import qr_text  # token imports ids, which imports this

        return qr_text(self.series.verify_url, self.token)

    @property
    def display_id(self) -> str:
        """The statement id in groups of four, as printed."""
        s = self.statement_id
        return "-".join(s[i : i + 4] for i in range(0, len(s), 4))
