"""Enquiry and appeal deadlines: working days skip weekends and England and Wales bank holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from factories import fce_test, step_test

from results_online.build.grading.enquiry import (
    EnquiryRule,
    add_working_days,
    appeal_deadline,
    bank_holidays,
    enquiry_deadline,
    enquiry_rule,
    is_working_day,
)

CLOSED = bank_holidays([2026, 2027])


def test_bank_holidays_are_england_and_wales_ones() -> None:
    # The August bank holiday is England and Wales only (Scotland's is early August).
    assert date(2026, 8, 31) in CLOSED
    assert date(2026, 8, 3) not in CLOSED
    # Boxing Day 2026 is a Saturday: the substitute day is Monday 28 December.
    assert date(2026, 12, 28) in CLOSED
    assert not is_working_day(date(2026, 12, 28), CLOSED)
    assert is_working_day(date(2026, 12, 29), CLOSED)


def test_friday_release_before_the_august_bank_holiday() -> None:
    # Friday 28 Aug 2026; Mon 31 Aug is a bank holiday: Tue, Wed, Thu, Fri, then Mon 7 Sep.
    assert add_working_days(date(2026, 8, 28), 5, CLOSED) == date(2026, 9, 7)
    # Without the holiday it would be Friday 4 September.
    assert add_working_days(date(2026, 8, 28), 5, frozenset()) == date(2026, 9, 4)


def test_release_day_itself_is_not_counted_and_weekend_release_starts_monday() -> None:
    assert add_working_days(date(2026, 8, 19), 1, CLOSED) == date(2026, 8, 20)  # Wed → Thu
    assert add_working_days(date(2026, 8, 22), 1, CLOSED) == date(2026, 8, 24)  # Sat → Mon
    assert add_working_days(date(2026, 8, 19), 0, CLOSED) == date(2026, 8, 19)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 8, 19), -1, CLOSED)


def test_christmas_and_new_year_are_skipped() -> None:
    # Thu 24 Dec 2026: Fri 25 and Mon 28 Dec closed, then 29, 30, 31 Dec, (1 Jan closed), 4, 5 Jan.
    assert add_working_days(date(2026, 12, 24), 5, CLOSED) == date(2027, 1, 5)


def test_default_rules_by_family() -> None:
    step = replace(step_test(), enquiry_working_days=None, enquiry_calendar_days=None)
    english = replace(fce_test(), enquiry_working_days=None, enquiry_calendar_days=None)
    assert enquiry_rule(step) == EnquiryRule(5, working=True)
    assert enquiry_rule(english) == EnquiryRule(14, working=False)
    assert enquiry_rule(step).describe() == "5 working days"
    assert enquiry_rule(english).describe() == "2 weeks"  # as Cambridge English says it


def test_configured_rules_win_and_misuse_is_refused() -> None:
    assert enquiry_rule(replace(step_test(), enquiry_working_days=10)) == EnquiryRule(10, True)
    english = replace(fce_test(), enquiry_working_days=None, enquiry_calendar_days=30)
    assert enquiry_rule(english) == EnquiryRule(30, False)
    with pytest.raises(ValueError, match="both"):
        enquiry_rule(replace(step_test(), enquiry_working_days=5, enquiry_calendar_days=14))
    with pytest.raises(ValueError, match="at least 1"):
        enquiry_rule(replace(step_test(), enquiry_working_days=0))


def test_deadlines() -> None:
    released = date(2026, 8, 28)
    assert enquiry_deadline(EnquiryRule(5, True), released, CLOSED) == date(2026, 9, 7)
    # Calendar days run through weekends and bank holidays.
    assert enquiry_deadline(EnquiryRule(14, False), released, CLOSED) == date(2026, 9, 11)
    # Appeal: 5 working days from receiving the enquiry outcome (Thu 24 Dec 2026).
    assert appeal_deadline(date(2026, 12, 24), CLOSED) == date(2027, 1, 5)
