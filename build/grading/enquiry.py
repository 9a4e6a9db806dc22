"""Results-enquiry and appeal deadlines: working days in England and Wales.

A working day is Monday to Friday and not a bank holiday in England and Wales
(the ``holidays`` library, GB subdivision ENG, which England and Wales share).
The release day itself never counts: "5 working days after a Friday release"
ends on the following Friday, or later when a bank holiday falls in between.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import holidays

from results_online.dates import board_day
from results_online.model import Family, SeriesInfo, Test

APPEAL_WORKING_DAYS = 5
APPEAL_RULE = (f"An appeal can be submitted within {APPEAL_WORKING_DAYS} working days of "
               "receiving the outcome of a results enquiry.")
ENQUIRY_DEFAULTS: dict[Family, tuple[int | None, int | None]] = {
    Family.STEP: (5, None),  # 5 working days
    Family.CAMBRIDGE_ENGLISH: (None, 14),  # 2 weeks, in calendar days
}


@dataclass(frozen=True)
class EnquiryRule:
    """How long after release a results enquiry may be made, in one unit."""

    days: int
    working: bool  # True: working days in England and Wales; False: calendar days

    def describe(self) -> str:
        """The rule as the board words it: "5 working days", "2 weeks" or "10 calendar days"."""
        if not self.working and self.days % 7 == 0:
            weeks = self.days // 7
            return f"{weeks} week{'' if weeks == 1 else 's'}"
        unit = "working day" if self.working else "calendar day"
        return f"{self.days} {unit}{'' if self.days == 1 else 's'}"


def bank_holidays(years: Iterable[int]) -> frozenset[date]:
    """Bank holidays in England and Wales in these years (substitute days included)."""
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=sorted(set(years)))
    return frozenset(calendar.keys())


def is_working_day(day: date, closed: Container[date]) -> bool:
    """Whether ``day`` is Monday to Friday and not in ``closed``."""
    return day.weekday() < 5 and day not in closed


def add_working_days(start: date, days: int, closed: Container[date]) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, closed):
            left -= 1
    return day


def enquiry_rule(test: Test) -> EnquiryRule:
    """The test's enquiry window, or its family's default (STEP 5 working, English 14 days)."""
    working, calendar = test.enquiry_working_days, test.enquiry_calendar_days
    if working is not None and calendar is not None:
        raise ValueError(f"test {test.code} sets both working and calendar enquiry days")
    if working is None and calendar is None:
        working, calendar = ENQUIRY_DEFAULTS[test.family]
    days, is_working = (working, True) if working is not None else (calendar, False)
    if days is None or days < 1:
        raise ValueError(f"test {test.code}: the enquiry window must be at least 1 day")
    return EnquiryRule(days, working=is_working)


def enquiry_deadline(rule: EnquiryRule, released: date, closed: Container[date]) -> date:
    """The last day a results enquiry may be submitted for results released on ``released``."""
    if rule.working:
        return add_working_days(released, rule.days, closed)
    return released + timedelta(days=rule.days)


def appeal_deadline(outcome_received: date, closed: Container[date]) -> date:
    """The last day for an appeal, counted from receiving a results-enquiry outcome."""
    return add_working_days(outcome_received, APPEAL_WORKING_DAYS, closed)


def results_release_day(info: SeriesInfo) -> date:
    """The day the series' results are released (to centres first), in the board's zone."""
    return board_day(info.centres_release, info.zone)


def series_closed_days(info: SeriesInfo) -> frozenset[date]:
    """Bank holidays from the release to a year after results stop being available."""
    return bank_holidays(range(results_release_day(info).year, info.available_until.year + 2))


def enquiry_deadline_of(info: SeriesInfo, test: Test,
                          closed: Container[date] | None = None) -> date:
    """The results-enquiry deadline of ``test``: the one the centre and its candidates see."""
    days = series_closed_days(info) if closed is None else closed
    return enquiry_deadline(enquiry_rule(test), results_release_day(info), days)


def enquiry_open(deadline: date, today: date) -> bool:
    """Whether enquiries may still be made on ``today`` (the deadline day included)."""
    return today <= deadline
