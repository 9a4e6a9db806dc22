"""Read ``series.toml``: the series-wide settings and the tests in the series.

Problems are collected, never raised one by one; a problem's column is the
TOML key, e.g. ``tests[2].papers[1].boundaries``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from results_online.build.grading import rules
from results_online.build.grading.enquiry import ENQUIRY_DEFAULTS
from results_online.build.inputs.csvtable import control_character
from results_online.dates import BOARD_TIME_ZONE
from results_online.errors import Problem
from results_online.model import Component, Family, SeriesInfo, Test
from results_online.token import HOST_URL

FILE = "series.toml"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_TEST_CODE = re.compile(r"^[A-Z0-9]{1,8}$")
_PAPER_CODE = re.compile(r"^[A-Za-z0-9]{1,8}$")
_MISSING = object()
SERIES_KEYS = ("board", "name", "code", "year", "month", "time_zone", "centres_release",
               "candidates_release", "available_until", "issue_date", "verify_url", "site_url",
               "contact", "tests")
TEST_KEYS = ("code", "name", "family", "not_a_certificate", "enquiry_working_days",
             "enquiry_calendar_days", "explanation", "papers", "enquiry_url", "appeal_url")
PAPER_KEYS = ("code", "title", "max_mark", "boundaries")


class _Table:
    """Typed access to one TOML table; each wrong or missing key becomes a Problem."""

    def __init__(self, data: dict[str, Any], prefix: str, problems: list[Problem]) -> None:
        self.data, self.prefix, self.problems = data, prefix, problems

    def bad(self, key: str, message: str) -> None:
        self.problems.append(Problem(FILE, None, self.prefix + key, message))

    def only(self, known: tuple[str, ...]) -> None:
        """Report every key that is not one of ``known``, with a "did you mean" if close."""
        for key in self.data:
            if key in known:
                continue
            near = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
            self.bad(key, f"unknown key; did you mean {near[0]}?" if near else
                     "unknown key; the keys here are " + ", ".join(known))

    def get(self, key: str, kind: type | tuple[type, ...], what: str,
            default: Any = _MISSING) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                self.bad(key, f"is missing: give {what}")
            return default if default is not _MISSING else None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            self.bad(key, f"must be {what}")
            return None
        return value

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self.get(key, str, "a text in quotes", default)
        if isinstance(value, str) and not value.strip() and default is _MISSING:
            self.bad(key, "must not be empty")
        if isinstance(value, str) and (char := control_character(value.strip())) is not None:
            self.bad(key, f"contains the control character U+{ord(char):04X}: remove it")
            return ""
        return value.strip() if isinstance(value, str) else ""

    def when(self, key: str) -> datetime | None:
        value = self.get(key, (datetime, str), "a date and time with a UTC offset, "
                         "e.g. 2026-08-20T08:00:00+01:00")
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                self.bad(key, "is not a date and time like 2026-08-20T08:00:00+01:00")
                return None
        if isinstance(value, datetime) and value.tzinfo is None:
            self.bad(key, "needs a UTC offset (+00:00, +01:00 or Z): a time alone is ambiguous")
            return None
        return value if isinstance(value, datetime) else None

    def day(self, key: str, default: Any = _MISSING) -> date | None:
        value = self.get(key, (date, str), "a date like 2027-06-01", default)
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                self.bad(key, "is not a date like 2027-06-01")
                return None
        if isinstance(value, datetime):
            self.bad(key, "must be a date without a time")
            return None
        return value if isinstance(value, date) else None


@dataclass(frozen=True)
class SeriesFile:
    """What series.toml gave: settings (None if unusable), valid tests, every test code named."""

    info: SeriesInfo | None
    tests: tuple[Test, ...]
    test_codes: frozenset[str] | None  # None when the file could not be read at all


def read_series_file(folder: Path, problems: list[Problem]) -> SeriesFile:
    """The series settings and tests from ``folder/series.toml``; problems are collected."""
    try:
        text = (folder / FILE).read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except FileNotFoundError:
        problems.append(Problem(FILE, None, None, "file is missing from the series folder"))
        return SeriesFile(None, (), None)
    except UnicodeDecodeError:
        problems.append(Problem(FILE, None, None, "is not UTF-8 text"))
        return SeriesFile(None, (), None)
    except ValueError as exc:  # TOMLDecodeError, or a number of thousands of digits
        if not isinstance(exc, tomllib.TOMLDecodeError):
            problems.append(Problem(FILE, None, None, "is not valid TOML: a number is too long"))
            return SeriesFile(None, (), None)
        where = re.search(r"at line (\d+)", str(exc))
        problems.append(Problem(FILE, int(where.group(1)) if where else None, None,
                                f"is not valid TOML: {exc}"))
        return SeriesFile(None, (), None)
    found: list[Problem] = []
    info = _series_info(_Table(data, "", found))
    tests = _tests(data.get("tests"), found)
    problems.extend(Problem(p.file, line_of(text, p.column or ""), p.column, p.message)
                    for p in found)
    raw = data.get("tests")
    codes = frozenset(str(t.get("code")) for t in raw if isinstance(t, dict)) \
        if isinstance(raw, list) else frozenset()
    return SeriesFile(None if found else info, tests, codes)


def line_of(text: str, column: str) -> int | None:
    """The line of a key such as ``tests[2].papers[1].boundaries`` in TOML text, if found.

    Follows ``[[tests]]`` and ``[[tests.papers]]`` headers; a key that is missing
    points at its table's header line (None at the top level).
    """
    match = re.fullmatch(r"(?:tests\[(\d+)\](?:\.papers\[(\d+)\])?\.?)?(\w*)", column)
    if not match:
        return None
    want = (int(match.group(1) or 0), int(match.group(2) or 0))
    key = match.group(3)
    where, header = (0, 0), None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[[tests]]"):
            where = (where[0] + 1, 0)
        elif stripped.startswith("[[tests.papers]]"):
            where = (where[0], where[1] + 1)
        else:
            if where == want and key and re.match(rf"{key}\s*=", stripped):
                return number
            continue
        if where == want:
            header = number
    return header


def _series_info(t: _Table) -> SeriesInfo | None:
    t.only(SERIES_KEYS)
    board, name, code = t.text("board"), t.text("name"), t.text("code")
    if code and not _CODE.match(code):
        t.bad("code", "use letters, digits and '-' only, e.g. \"2026-06\" (it goes in file names)")
    year, month = t.get("year", int, "a year, e.g. 2026"), t.get("month", int, "a month, 1 to 12")
    if isinstance(year, int) and not 2000 <= year <= 2200:
        t.bad("year", "must be a year between 2000 and 2200")
    if isinstance(month, int) and not 1 <= month <= 12:
        t.bad("month", "must be a month number, 1 to 12")
    centres_at, candidates_at = t.when("centres_release"), t.when("candidates_release")
    until = t.day("available_until")
    issue = t.day("issue_date", None)
    if candidates_at and until and until <= candidates_at.date():
        t.bad("available_until", "must come after candidates_release")
    if centres_at and candidates_at and candidates_at < centres_at:
        t.bad("candidates_release", "must not be before centres_release: centres get "
                                    "their bundles first")
    zone = _time_zone(t)
    urls = [_url(t, "verify_url"), _url(t, "site_url")]
    contact = t.text("contact", "")
    if (centres_at is None or candidates_at is None or until is None or year is None
            or month is None or not urls[0] or not urls[1] or zone is None):
        return None
    return SeriesInfo(board, name, code, year, month, centres_at, candidates_at, until,
                      issue or candidates_at.date(), urls[0], urls[1], contact, zone)


def _time_zone(t: _Table) -> str | None:
    """The board's IANA time zone (default Europe/London), with a "did you mean" if unknown."""
    key = t.text("time_zone", BOARD_TIME_ZONE.key)
    try:
        zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        near = difflib.get_close_matches(key, sorted(zoneinfo.available_timezones()), n=1)
        t.bad("time_zone", "is not a time zone name like \"Europe/London\""
              + (f"; did you mean {near[0]}?" if near else ""))
        return None
    return key


def _url(t: _Table, key: str) -> str:
    url = t.text(key)
    # The site and the app are served at the root of their host: pages, scripts and
    # the keyset use root-absolute paths.
    if url and not re.fullmatch(HOST_URL + "/?", url, re.ASCII):
        t.bad(key, "must be an http:// or https:// address of a whole host, with no path, "
                   "query or fragment, the host in ASCII (an international name in its "
                   "xn-- form; e.g. https://results.example.org)")
        return ""
    return url.rstrip("/")


def _tests(raw: object, problems: list[Problem]) -> tuple[Test, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(FILE, None, "tests", "add at least one [[tests]] table"))
        return ()
    tests: list[Test] = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(FILE, None, f"tests[{i}]", "must be a [[tests]] table"))
            continue
        test = _test(_Table(item, f"tests[{i}].", problems))
        if test and any(t.code == test.code for t in tests):
            problems.append(Problem(FILE, None, f"tests[{i}].code", "test code used twice"))
        elif test:
            tests.append(test)
    return tuple(tests)


def _test(t: _Table) -> Test | None:
    t.only(TEST_KEYS)
    code = t.text("code")
    if code and not _TEST_CODE.match(code):
        t.bad("code", "must be 1 to 8 capital letters or digits, e.g. \"STEP\" or \"FCE\"")
    try:
        family = Family(t.text("family"))
    except ValueError:
        t.bad("family", "must be \"step\" or \"cambridge_english\"")
        return None
    not_cert = t.get("not_a_certificate", bool, "true or false")
    explanation = t.text("explanation", "")
    days = _enquiry(t, family)
    if family is Family.STEP:
        name = t.text("name")
        components = _papers(t)
    else:
        if code not in rules.EXAMS:
            t.bad("code", "a Cambridge English test code is one of " + ", ".join(rules.EXAMS))
            return None
        if "papers" in t.data:
            t.bad("papers", "Cambridge English skills are fixed; remove [[tests.papers]]")
        name = t.text("name", rules.EXAMS[code].name)
        components = rules.cambridge_components(code)
    if not_cert is None or days is None or not components:
        return None
    enquiry_url, appeal_url = _link(t, "enquiry_url"), _link(t, "appeal_url")
    return Test(code, name, family, components, not_cert, days[0], days[1], explanation,
                enquiry_url, appeal_url)


def _link(t: _Table, key: str) -> str:
    url = t.text(key, "")
    if url and not re.match(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$", url):
        t.bad(key, "must be an http:// or https:// address, e.g. the board's application form")
        return ""
    return url


def _enquiry(t: _Table, family: Family) -> tuple[int | None, int | None] | None:
    working = t.get("enquiry_working_days", int, "a number of days", None)
    calendar = t.get("enquiry_calendar_days", int, "a number of days", None)
    if working is not None and calendar is not None:
        t.bad("enquiry_calendar_days", "give enquiry_working_days or enquiry_calendar_days, "
              "not both")
        return None
    for key, value in (("enquiry_working_days", working), ("enquiry_calendar_days", calendar)):
        if value is not None and not 1 <= value <= 366:
            t.bad(key, "must be between 1 and 366 days")
            return None
    if working is None and calendar is None:
        return ENQUIRY_DEFAULTS[family]
    return working, calendar


def _papers(t: _Table) -> tuple[Component, ...]:
    raw = t.data.get("papers")
    if not isinstance(raw, list) or not raw:
        t.bad("papers", "a STEP test needs at least one [[tests.papers]] table")
        return ()
    papers: list[Component] = []
    for i, item in enumerate(raw, start=1):
        p = _Table(item if isinstance(item, dict) else {}, f"{t.prefix}papers[{i}].", t.problems)
        paper = _paper(p)
        if paper and any(q.code == paper.code for q in papers):
            p.bad("code", "paper code used twice in this test")
        elif paper:
            papers.append(paper)
    return tuple(papers) if len(papers) == len(raw) else ()


def _paper(p: _Table) -> Component | None:
    p.only(PAPER_KEYS)
    code, title = p.text("code"), p.text("title")
    if code and not _PAPER_CODE.match(code):
        p.bad("code", "must be 1 to 8 letters or digits, e.g. \"9470\"")
        return None
    max_mark = p.get("max_mark", int, "the highest mark, e.g. 120", rules.STEP_MAX_MARK)
    raw = p.get("boundaries", dict, "a table like { S = 96, 1 = 74, 2 = 60, 3 = 45, U = 0 }")
    if not isinstance(max_mark, int) or not isinstance(raw, dict) or not code:
        return None
    if not 1 <= max_mark <= 250:
        p.bad("max_mark", "must be between 1 and 250")
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in raw.values()):
        p.bad("boundaries", "each grade's lowest mark must be a whole number")
        return None
    boundaries = tuple(sorted(((str(g), int(v)) for g, v in raw.items()), key=lambda b: -b[1]))
    wrong = rules.check_step_boundaries(boundaries, max_mark)
    for message in wrong:
        p.bad("boundaries", message)
    return None if wrong else Component(code, title, max_mark, boundaries=boundaries)
